// SweepRunnerTests: a small spec runs end to end on the fixture, re-runs skip every cell, an interrupted sweep resumes,
// and a size-table-only spec needs no model.
using Compression.Evaluation;
using Compression.Experiments;
using Compression.Reporting;

namespace Compression.Tests.Experiments;

public sealed class SweepRunnerTests
{
    private sealed class Recorder(Action<SweepCell>? onFinished = null) : ISweepProgress
    {
        public readonly List<SweepCell> Finished = [];
        public (int Total, int Done) Plan;
        public int ProgressReports;
        public void Planned(int totalCells, int alreadyDone) => Plan = (totalCells, alreadyDone);
        public void Activity(string description, SweepCell? cell = null) { }
        public void Progress(EvaluationProgress progress) => ProgressReports++;
        public void CellFinished(SweepCell cell, ResultRecord record) { Finished.Add(cell); onFinished?.Invoke(cell); }
    }

    // Baseline + q8_0 + q4_0, each: perplexity, a.jsonl, b.jsonl, throughput.
    private const int Cells = 3 * 4;

    private static Dictionary<string, string> Snapshot(string root) =>
        Directory.GetFiles(Path.Combine(root, "records")).ToDictionary(Path.GetFileName, File.ReadAllText)!;

    [Fact]
    public void Small_sweep_runs_end_to_end_and_a_rerun_skips_every_cell()
    {
        string dir = ExperimentInputs.Create();
        string output = Path.Combine(dir, "out");
        string spec = ExperimentInputs.WriteSweepSpec(dir, output);
        var progress = new Recorder();
        var first = ExperimentInputs.Run(spec, dir, progress);

        Assert.Equal((Cells, 0), progress.Plan);
        Assert.Equal(Cells, first.TotalCells);
        Assert.Equal(Cells, first.Records.Count);
        Assert.True(progress.ProgressReports > 0);
        var records = new ResultsStore(output).LoadAll();
        Assert.Empty(records.Errors);
        Assert.Equal(Cells, records.Records.Count);
        Assert.Equal(["f32 baseline", "q4_0 default", "q8_0 default"],
            records.Records.Select(r => $"{r.Format} {r.Policy}").Distinct().Order());
        Assert.Equal(["a", "b", "perplexity", "throughput"], records.Records.Select(r => r.Task.Name).Distinct().Order());
        Assert.All(records.Records, r => Assert.Equal(7, r.Key.Seed));
        // Sizes shrink with the format.
        double Bpw(string f) => records.Records.First(r => r.Format == f).Size!.BitsPerWeight;
        Assert.True(Bpw("f32") > Bpw("q8_0") && Bpw("q8_0") > Bpw("q4_0"));

        var report = first.Report!;
        Assert.True(File.Exists(report.ReportPath));
        Assert.True(File.Exists(report.CsvPath));
        string md = File.ReadAllText(report.ReportPath);
        Assert.Contains("fixture sweep", md);
        Assert.Contains("q4_0", md);
        Assert.Empty(report.Problems.Where(p => !p.Contains("font", StringComparison.OrdinalIgnoreCase)));
        var charts = report.Charts.Select(c => Path.GetFileName(c.PngPath)).ToList();
        Assert.Contains("model-sizes.png", charts);
        Assert.Contains(charts, c => c.Contains("size-vs-perplexity"));
        Assert.Contains(charts, c => c.Contains("size-vs-acc"));
        Assert.Contains(charts, c => c.Contains("throughput-vs-bits"));
        Assert.Contains(charts, c => c.StartsWith("tensor-error", StringComparison.Ordinal));
        Assert.All(report.Charts, c => Assert.True(File.Exists(c.PngPath) && File.Exists(c.SvgPath)));
        Assert.Equal(["q4_0", "q8_0"], ReportInputs.LoadTensorErrors(output).Select(e => e.Format).Distinct().Order());
        Assert.Equal(2 * 7, ReportInputs.LoadTensorErrors(output).Count / 2); // 2 layers × 7 projections per format

        var before = Snapshot(output);
        var again = new Recorder();
        var second = ExperimentInputs.Run(spec, dir, again);
        Assert.Equal((Cells, Cells), again.Plan);
        Assert.Equal(Cells, second.Skipped);
        Assert.Empty(second.Records);
        Assert.Empty(again.Finished);
        Assert.Equal(before, Snapshot(output)); // same files, same contents: nothing measured again
        Assert.Equal(Cells, new ResultsStore(output).LoadAll().Records.Count);
    }

    [Fact]
    public void Interrupted_sweep_keeps_completed_cells_and_resumes_without_duplicates()
    {
        string dir = ExperimentInputs.Create();
        string output = Path.Combine(dir, "out");
        string spec = ExperimentInputs.WriteSweepSpec(dir, output, tensorErrors: false);
        using var cancel = new CancellationTokenSource();
        var interrupted = new Recorder(_ => cancel.Cancel());
        Assert.ThrowsAny<OperationCanceledException>(() => ExperimentInputs.Run(spec, dir, interrupted, cancel.Token));
        Assert.Single(interrupted.Finished);
        var kept = Snapshot(output);
        Assert.Single(kept);
        Assert.Empty(Directory.GetFiles(Path.Combine(output, "records"), "*.tmp"));

        var resumed = new Recorder();
        var outcome = ExperimentInputs.Run(spec, dir, resumed);
        Assert.Equal((Cells, 1), resumed.Plan);
        Assert.Equal(Cells - 1, outcome.Records.Count);
        Assert.DoesNotContain(interrupted.Finished[0], resumed.Finished);
        var all = new ResultsStore(output).LoadAll().Records;
        Assert.Equal(Cells, all.Count);
        Assert.Equal(Cells, all.Select(r => r.Key).Distinct().Count());
        var first = kept.Single();
        Assert.Equal(first.Value, File.ReadAllText(Path.Combine(output, "records", first.Key))); // the kept record is untouched
    }

    [Fact]
    public void Size_table_only_spec_runs_without_a_model()
    {
        string dir = TestPaths.NewTempDir("sizes");
        string path = Path.Combine(dir, "sizes.json");
        File.WriteAllText(path, """{ "name": "Llama 3.1 8B sizes", "sizeTable": ["llama-3.1-8b"], "output": "res" }""");
        var outcome = ExperimentInputs.Run(path, dir);

        Assert.Equal(0, outcome.TotalCells);
        Assert.Equal(Path.Combine(dir, "res"), outcome.Output);
        var table = ReportInputs.LoadSizeTable(outcome.Output)!;
        var bf16 = table.Rows.Single(r => r.Format == "bf16");
        Assert.Equal(16_060_522_496, bf16.Bytes); // DESIGN.md: Llama 3.1 8B in BF16
        Assert.Equal(8_030_261_248, bf16.Parameters);
        string md = File.ReadAllText(outcome.Report!.ReportPath);
        Assert.Contains("Llama 3.1 8B sizes", md);
        Assert.Contains("q4_0", md);
        Assert.Contains(outcome.Report.Charts, c => Path.GetFileName(c.PngPath) == "model-sizes.png");
    }
}
