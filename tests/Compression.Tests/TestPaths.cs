// TestPaths: where the shipped fixtures and per-test scratch folders are.
namespace Compression.Tests;

internal static class TestPaths
{
    /// <summary>The tiny-llama3 reference checkpoint (copied from shared/fixtures; see its README.md).</summary>
    public static string TinyLlama => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-llama3");

    public static string TinyLlamaFile(string name) => Path.Combine(TinyLlama, name);

    /// <summary>A fresh empty directory under the system temp folder, unique per call.</summary>
    public static string NewTempDir(string tag = "test")
    {
        string dir = Path.Combine(Path.GetTempPath(), "compression-tests", $"{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
