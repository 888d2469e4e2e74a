// TestPaths: where the shipped fixtures and per-test scratch folders are.
using System.Diagnostics;

namespace Compression.Tests;

internal static class TestPaths
{
    /// <summary>The tiny-llama3 reference checkpoint (copied from shared/fixtures; see its README.md).</summary>
    public static string TinyLlama => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-llama3");

    public static string TinyLlamaFile(string name) => Path.Combine(TinyLlama, name);

    /// <summary>A fresh empty directory under this test run's temp folder (<see cref="RunRoot"/>), unique per call.</summary>
    public static string NewTempDir(string tag = "test")
    {
        string dir = Path.Combine(RunRoot.Value, $"{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// One folder per test process, <c>compression-tests/run-PID-GUID</c>. The scratch folders used to stay behind:
    /// ~11,500 of them, 7.6 GB, had filled this machine's disk after a day of runs. Each run now removes the folders of
    /// test processes that are gone (and the loose folders from before) when it starts, so one run's scratch (~180 MB)
    /// stays at most: the test host is stopped without running exit handlers, so a run cannot remove its own.
    /// </summary>
    private static readonly Lazy<string> RunRoot = new(() =>
    {
        string parent = Path.Combine(Path.GetTempPath(), "compression-tests");
        Directory.CreateDirectory(parent);
        foreach (string old in Directory.EnumerateDirectories(parent))
            if (!BelongsToLiveProcess(Path.GetFileName(old))) TryDelete(old);
        string root = Path.Combine(parent, $"run-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        return root;
    });

    private static bool BelongsToLiveProcess(string name)
    {
        var parts = name.Split('-');
        if (parts.Length != 3 || parts[0] != "run" || !int.TryParse(parts[1], out int pid)) return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; } // no such process
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }                  // a file still open, or gone already
        catch (UnauthorizedAccessException) { }
    }
}
