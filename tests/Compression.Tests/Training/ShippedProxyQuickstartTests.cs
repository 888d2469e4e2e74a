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
        // The records were made where MKL runs its AVX2 branch (10): there they must match bit for bit. Where MKL takes
        // its COMPATIBLE branch instead (AMD: it ignores MKL_CBWR=AVX2), libtorch's float matmuls round differently, so
        // numbers agree to a bound. Seen on an AMD EPYC (Zen 5): f32 perplexity 3.563171807 against 3.563171804; q4_0's KL
        // statistics off by at most 8.4e-7 (kl_max), 1.9e-6 relative on kl_mean; differences of near-equal quantities
        // (ln perplexity ratio ~7e-5, KL median ~1e-5) off by ~1e-9 absolute.
        bool exact = LibtorchProbe.MklBranch() == 10;
        foreach (var record in outcome.Records)
        {
            string name = record.Key.FileName;
            string expectedPath = Path.Combine(committed, name);
            Assert.True(File.Exists(expectedPath), $"{expectedPath}: no committed record for this cell (regenerate results/ with `compress run`)");
            var expected = Comparable(File.ReadAllText(expectedPath));
            var actual = Comparable(File.ReadAllText(Path.Combine(spec.Output!, "records", name)));
            Assert.True(exact ? JsonNode.DeepEquals(expected, actual) : Near(expected, actual),
                $"{name} differs from the committed record{(exact ? "" : $" by more than {NonIntelMklTolerance:G1} relative + {NonIntelMklAbsolute:G1}")}:\ncommitted {expected!.ToJsonString()}\nnow       {actual!.ToJsonString()}");
        }
    }

    /// <summary>Relative bound on numbers where MKL does not run its AVX2 branch (plus <see cref="NonIntelMklAbsolute"/>).</summary>
    private const double NonIntelMklTolerance = 1e-5;
    private const double NonIntelMklAbsolute = 2e-6;

    /// <summary>The same JSON, numbers within |u − v| ≤ 1e-5·max(|u|, |v|) + 2e-6; everything else equal.</summary>
    private static bool Near(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (JsonObject x, JsonObject y) => x.Count == y.Count && x.All(p => y.ContainsKey(p.Key) && Near(p.Value, y[p.Key])),
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => Near(p.First, p.Second)),
        (JsonValue x, JsonValue y) when x.TryGetValue(out double u) && y.TryGetValue(out double v) =>
            u == v || Math.Abs(u - v) <= NonIntelMklTolerance * Math.Max(Math.Abs(u), Math.Abs(v)) + NonIntelMklAbsolute,
        _ => JsonNode.DeepEquals(a, b),
    };

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
