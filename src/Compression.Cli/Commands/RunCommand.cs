// compress run: runs an experiment spec as a resumable sweep and writes the report.
using System.CommandLine;
using Compression.Experiments;

namespace Compression.Cli.Commands;

internal static class RunCommand
{
    public const string DefaultSpec = "experiments/quickstart.json";

    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = $"Experiment spec (JSON); default {DefaultSpec}", DefaultValueFactory = _ => DefaultSpec };
        var engines = new Option<string[]>("--engine") { Description = "Run the spec on these engines instead of its own list (torchsharp, llama.cpp, onnxruntime; repeatable)", AllowMultipleArgumentsPerToken = true };
        var command = new Command("run", "Run an experiment spec (model, formats, policies, tasks, seeds) as a sweep; completed cells are skipped, so an interrupted run resumes")
        {
            spec, engines,
        };
        command.SetAction((parse, cancel) =>
        {
            string path = parse.GetValue(spec)!;
            var experiment = ExperimentSpecLoader.Load(path);
            if (parse.GetValue(engines) is { Length: > 0 } names)
                experiment = ExperimentSpecLoader.Validate(experiment with { Engines = names.Select(SweepEngines.Check).ToList() }, path);
            var outcome = SweepConsole.Run(experiment, path, new SweepOptions(), cancel);
            if (outcome is null) return Task.FromResult(130);
            SweepConsole.PrintSizeTable(outcome.Output);
            var all = new Reporting.ResultsStore(outcome.Output).LoadAll().Records;
            SweepConsole.PrintRecords(all, experiment.Name ?? "Results");
            if (outcome.Report is { } report) SweepConsole.PrintReport(report);
            return Task.FromResult(0);
        });
        return command;
    }
}
