// compress plot: draws the report's charts (PNG and SVG) from the results folder, without rewriting REPORT.md.
using System.CommandLine;
using Compression.Experiments;
using Compression.Reporting;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class PlotCommand
{
    public static Command Create()
    {
        var results = ReportCommand.Results();
        var output = new Option<string?>("--out") { Description = "Folder for the charts (default RESULTS/charts)" };
        var command = new Command("plot", "Draw the charts (size vs quality, throughput vs bits, model sizes, per-tensor error) from the results folder")
        {
            results, output,
        };
        command.SetAction(parse =>
        {
            string root = parse.GetValue(results)!;
            if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"results folder not found: {root}");
            var set = new ResultsStore(root).LoadAll();
            var charts = ReportCharts.WriteAll(set.Records, parse.GetValue(output) ?? Path.Combine(root, "charts"), ReportInputs.Options(root));
            foreach (var chart in charts.Charts) AnsiConsole.WriteLine(chart.PngPath);
            foreach (string problem in set.Errors.Select(e => e.Message).Concat(charts.Problems))
                SweepConsole.Err.MarkupLine($"[yellow]warning:[/] {Markup.Escape(problem)}");
            return 0;
        });
        return command;
    }
}
