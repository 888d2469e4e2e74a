// compress report: aggregates the results folder into REPORT.md, results.csv and charts.
using System.CommandLine;
using Compression.Experiments;
using Compression.Reporting;

namespace Compression.Cli.Commands;

internal static class ReportCommand
{
    public static Option<string> Results() => new("--results") { Description = "Results folder", DefaultValueFactory = _ => "results" };

    public static Command Create()
    {
        var results = Results();
        var command = new Command("report", "Write REPORT.md, results.csv and the charts from every record in the results folder") { results };
        command.SetAction(parse =>
        {
            string root = parse.GetValue(results)!;
            if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"results folder not found: {root}");
            var report = ReportWriter.Generate(new ResultsStore(root), ReportInputs.Options(root));
            SweepConsole.PrintSizeTable(root);
            SweepConsole.PrintRecords(new ResultsStore(root).LoadAll().Records);
            SweepConsole.PrintReport(report);
            return 0;
        });
        return command;
    }
}
