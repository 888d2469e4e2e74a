// RunInterruptionTests: `compress run` killed mid-sweep (SIGKILL) keeps only complete records, and the re-run
// resumes to the full set without duplicates; an interrupted (SIGINT) run exits 130.
using System.Diagnostics;
using Compression.Reporting;

namespace Compression.Tests.Robustness;

public sealed class RunInterruptionTests
{
    private static (string Spec, string Results) Spec(string tag)
    {
        string dir = TestPaths.NewTempDir(tag);
        string text = Path.Combine(dir, "text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("Once upon a time there was a small robot who repaired clocks in a workshop. ", 40)));
        string results = Path.Combine(dir, "results");
        string spec = Path.Combine(dir, "spec.json");
        File.WriteAllText(spec, $$"""
            {
              "name": "kill test",
              "model": { "path": {{System.Text.Json.JsonSerializer.Serialize(TestPaths.TinyLlama)}} },
              "formats": ["q8_0", "q4_0", "q1_0", "int8", "int4", "f16"],
              "policies": ["default"],
              "tasks": { "perplexity": { "file": {{System.Text.Json.JsonSerializer.Serialize(text)}}, "context": 64 } },
              "seeds": [1],
              "output": {{System.Text.Json.JsonSerializer.Serialize(results)}}
            }
            """);
        return (spec, results);
    }

    [Fact]
    public void A_run_killed_after_its_first_record_resumes_to_the_full_set_without_duplicates()
    {
        var (spec, results) = Spec("run-kill");
        string records = Path.Combine(results, "records");
        using (var child = Process.Start(RobustnessFiles.Cli(["run", spec]))!)
        {
            var clock = Stopwatch.StartNew();
            while (!(Directory.Exists(records) && Directory.EnumerateFiles(records, "*.json").Any()) && !child.HasExited && clock.Elapsed < TimeSpan.FromSeconds(120))
                Thread.Sleep(5);
            Assert.False(child.HasExited, "the run finished before it could be killed");
            child.Kill();
            child.WaitForExit();
        }
        var partial = new ResultsStore(results).LoadAll();
        Assert.Empty(partial.Errors);           // nothing half-written is read as a record
        Assert.NotEmpty(partial.Records);
        Assert.True(partial.Records.Count < 7, $"{partial.Records.Count} records before the kill");

        var (exit, _, err) = RobustnessFiles.RunCli(["run", spec], timeoutMs: 300_000);
        Assert.True(exit == 0, err);
        var all = new ResultsStore(results).LoadAll();
        Assert.Empty(all.Errors);
        Assert.Equal(all.Records.Count, all.Records.Select(r => r.Key).Distinct().Count());
        Assert.Equal(7, all.Records.Count); // six formats and the baseline
        Assert.All(partial.Records, r => Assert.Contains(all.Records, a => a.Key == r.Key));
    }

    [Fact]
    public void An_interrupted_run_exits_130_with_only_complete_records()
    {
        var (spec, results) = Spec("run-int");
        string records = Path.Combine(results, "records");
        using var child = Process.Start(RobustnessFiles.Cli(["run", spec]))!;
        var clock = Stopwatch.StartNew();
        while (!(Directory.Exists(records) && Directory.EnumerateFiles(records, "*.json").Any()) && !child.HasExited && clock.Elapsed < TimeSpan.FromSeconds(120))
            Thread.Sleep(5);
        Assert.False(child.HasExited, "the run finished before it could be interrupted");
        Assert.Equal(0, RobustnessFiles.Tool("kill", "-INT", child.Id.ToString()));
        Assert.True(child.WaitForExit(60_000), "the run did not stop after SIGINT");
        Assert.Equal(130, child.ExitCode);
        var partial = new ResultsStore(results).LoadAll();
        Assert.Empty(partial.Errors);
        Assert.InRange(partial.Records.Count, 1, 6);
    }
}
