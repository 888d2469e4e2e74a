// The quickstart on the shipped proxy, CI-sized: the f32 baseline, q4_0 and q1_0 (two kernel families), on the
// quickstart's own perplexity, KL and one multiple-choice category with its exact settings, must reproduce the
// committed records in results/records/ — every field except where and when it ran.
using System.Text.Json.Nodes;
using Compression.Experiments;
using Compression.Reporting;
using Compression.Training;

namespace Compression.Tests.Training;

public sealed class ShippedProxyQuickstartTests : IDisposable
{
    private static readonly string[] Formats = ["q4_0", "q1_0"];
    private static readonly string[] Categories = ["counting"];

    /// <summary>Record fields that describe the run, not the measurement.</summary>
    private static readonly string[] RunFields = ["id", "toolVersion", "gitCommit", "machine", "timeUtc"];

    private readonly string _repo = TestPaths.NewTempDir("quickstart");

    public void Dispose() => Directory.Delete(_repo, recursive: true);

    [Fact]
    public void The_shipped_proxy_reproduces_the_committed_quickstart_records()
    {
        // A clean "clone": the corpus and suite are generated under its .cache/proxy, the model is the shipped one.
        string model = ProxyModel.Resolve(Path.Combine(_repo, ".cache", "proxy"), RepoPaths.ShippedProxy);
        var quickstart = ExperimentSpecLoader.Load(Path.Combine(RepoPaths.Root, "experiments", "quickstart.json"), _repo);
        string suite = Path.Combine(_repo, ".cache", "proxy", "suite");
        var spec = quickstart with
        {
            Model = new ModelSource { Path = model },
            Formats = Formats,
            Tasks = quickstart.Tasks! with
            {
                Throughput = null,
                Choice = quickstart.Tasks!.Choice! with { Files = Categories.Select(c => Path.Combine(suite, c + ".jsonl")).ToList() },
            },
            Output = Path.Combine(_repo, "results"),
            SizeTable = null,
            TensorErrors = false,
        };
        var outcome = new SweepRunner(spec, "quickstart (CI-sized)", new SweepOptions { WriteReport = false }).Run();
        // The baseline: perplexity and the categories; each format: those and KL against the baseline.
        Assert.Equal((1 + Categories.Length) + (2 + Categories.Length) * Formats.Length, outcome.Records.Count);

        string committed = Path.Combine(RepoPaths.Root, "results", "records");
        foreach (var record in outcome.Records)
        {
            string name = record.Key.FileName;
            string expectedPath = Path.Combine(committed, name);
            Assert.True(File.Exists(expectedPath), $"{expectedPath}: no committed record for this cell (regenerate results/ with `compress run`)");
            var expected = Comparable(File.ReadAllText(expectedPath));
            var actual = Comparable(File.ReadAllText(Path.Combine(spec.Output!, "records", name)));
            Assert.True(JsonNode.DeepEquals(expected, actual), $"{name} differs from the committed record:\ncommitted {expected!.ToJsonString()}\nnow       {actual!.ToJsonString()}");
        }
    }

    // The record without its run fields; model.path is where that run found the model, so only its folder name counts.
    private static JsonNode? Comparable(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        foreach (var field in RunFields) node.Remove(field);
        var model = node["model"]!.AsObject();
        model["path"] = Path.GetFileName(model["path"]!.GetValue<string>().TrimEnd('/', '\\'));
        return node;
    }
}
