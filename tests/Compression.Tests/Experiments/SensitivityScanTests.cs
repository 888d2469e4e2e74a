// SensitivityScanTests: one layer quantized at a time on the fixture — KL grows as bits shrink, records are kept and a
// re-run measures nothing again; the table feeds a plan that stays within its budget.
using Compression.Experiments;
using Compression.Evaluation.Tasks;
using Compression.Inference;
using Compression.Quantization;
using Compression.Quantization.Methods;
using Compression.Quantization.Planning;
using Compression.Reporting;

namespace Compression.Tests.Experiments;

public class SensitivityScanTests
{
    [Fact]
    public void Per_layer_scan_orders_formats_resumes_and_plans_within_budget()
    {
        using var session = ModelSession.Open(TestPaths.TinyLlamaFile("model-f32.gguf"), new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        var baseline = EvaluatedModel.Baseline(session);
        string dir = TestPaths.NewTempDir("sensitivity");
        string text = Path.Combine(dir, "text.txt");
        File.WriteAllText(text, string.Join("\n\n", Enumerable.Range(0, 40).Select(i => $"the quick brown fox {i} jumps over the lazy dog")));
        var store = new ResultsStore(Path.Combine(dir, "out"));
        var window = new WindowOptions { ContextLength = 64, MaxTokens = 256 };
        var formats = new[] { FormatRegistry.Get("q8_0"), FormatRegistry.Get("int2_g64") };
        var entries = SensitivityScan.Run(baseline, formats, RtnMethod.Instance, null, text, window, store, perLayer: true);
        Assert.Equal(4, entries.Count);
        foreach (var layer in entries.GroupBy(e => e.Tensor))
            Assert.True(layer.Single(e => e.Format == "q8_0").KlMean < layer.Single(e => e.Format == "int2_g64").KlMean);
        int records = Directory.GetFiles(store.RecordsDirectory).Length;
        Assert.Equal(4, records);
        var again = SensitivityScan.Run(baseline, formats, RtnMethod.Instance, null, text, window, store, perLayer: true);
        Assert.Equal(entries, again);                                         // read back, not measured again
        Assert.Equal(records, Directory.GetFiles(store.RecordsDirectory).Length);

        long parameters = entries.GroupBy(e => e.Tensor).Sum(g => g.First().Parameters);
        long budget = SensitivityScan.ParseBudget("5.5bpw", parameters); // one layer at q8_0 (8.5 bpw), one at int2_g64 (2.5);
        var plan = BudgetPlanner.Plan(SensitivityScan.Choices(entries, "rtn"), budget);
        Assert.True(plan.Bytes <= budget);
        Assert.Contains(plan.Choices.Values, o => o.Format == "q8_0");
        Assert.Contains("--budget 'lots'", Assert.Throws<ArgumentException>(() => SensitivityScan.ParseBudget("lots", parameters)).Message);
    }
}
