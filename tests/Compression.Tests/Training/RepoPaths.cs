// RepoPaths: the repository the tests were built from — for committed artifacts (the shipped proxy, results/).
namespace Compression.Tests.Training;

internal static class RepoPaths
{
    /// <summary>The folder holding Compression.sln, found upward from the test binaries.</summary>
    public static string Root { get; } = Find();

    public static string ShippedProxy => Path.Combine(Root, Compression.Training.ProxyModel.ShippedDirectory);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Compression.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Compression.sln above {AppContext.BaseDirectory}");
    }
}
