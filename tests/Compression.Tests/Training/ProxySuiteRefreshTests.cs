// Tests that the proxy's cache replaces a benchmark suite written by an older generator (so no stale file is scored).
using Compression.Training;
using Compression.Training.Corpus;
using Compression.Training.Suite;

namespace Compression.Tests.Training;

public sealed class ProxySuiteRefreshTests : IDisposable
{
    private readonly List<string> _roots = [];

    public void Dispose()
    {
        foreach (string root in _roots) Directory.Delete(root, recursive: true);
    }

    // A cache whose corpus and model exist (Ensure then only checks the suite), with the given suite folder contents.
    private ProxyPaths Cache(Action<string> writeSuite)
    {
        var paths = new ProxyPaths(TestPaths.NewTempDir("proxy-cache"));
        _roots.Add(paths.Root);
        Directory.CreateDirectory(paths.Corpus);
        File.WriteAllText(Path.Combine(paths.Corpus, CorpusManifest.FileName), "{}");
        Directory.CreateDirectory(paths.Model);
        File.WriteAllText(paths.Manifest, "{}");
        Directory.CreateDirectory(paths.Suite);
        writeSuite(paths.Suite);
        return paths;
    }

    [Fact]
    public void SuiteFromAnOlderGenerator_IsReplacedWhole()
    {
        // Version 2 wrote recall.jsonl and long_range.jsonl at the top, where suite/*.jsonl would still find them.
        var paths = Cache(dir =>
        {
            File.WriteAllText(Path.Combine(dir, "recall.jsonl"), "stale\n");
            File.WriteAllText(Path.Combine(dir, SuiteManifest.FileName), """{ "version": 2, "categories": [] }""");
        });
        Assert.Equal(paths.Model, ProxyModel.Ensure(paths.Root));

        SuiteManifest m = SuiteManifest.Read(paths.Suite);
        Assert.Equal(BenchmarkSuiteGenerator.Version, m.Version);
        Assert.False(File.Exists(Path.Combine(paths.Suite, "recall.jsonl")));
        Assert.All(m.Categories, c => Assert.Equal(ProxyModel.SuiteItemsPerCategory, File.ReadLines(Path.Combine(paths.Suite, c.File)).Count()));
    }

    [Fact]
    public void CurrentSuite_IsKept_AndAMalformedManifestIsRewritten()
    {
        var paths = Cache(dir => BenchmarkSuiteGenerator.Write(dir, 4, ProxyModel.SuiteSeed));
        ProxyModel.Ensure(paths.Root);
        Assert.Equal(4, File.ReadLines(Path.Combine(paths.Suite, "agreement.jsonl")).Count()); // reused, not rewritten

        File.WriteAllText(Path.Combine(paths.Suite, SuiteManifest.FileName), "{ not json");
        ProxyModel.Ensure(paths.Root);
        Assert.Equal(ProxyModel.SuiteItemsPerCategory, File.ReadLines(Path.Combine(paths.Suite, "agreement.jsonl")).Count());
    }
}
