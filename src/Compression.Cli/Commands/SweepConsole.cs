// SweepConsole: runs a sweep under a Spectre.Console progress display on standard error and prints result tables on standard output.
using System.Globalization;
using Compression.Evaluation;
using Compression.Experiments;
using Compression.Reporting;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class SweepConsole
{
    public static IAnsiConsole Err { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    /// <summary>
    /// Runs <paramref name="spec"/> with live progress (cells done/total, the current activity's tokens/documents/runs
    /// with ETA). Ctrl-C stops between units of work; completed records stay. Returns null when cancelled.
    /// </summary>
    public static SweepOutcome? Run(ExperimentSpec spec, string source, SweepOptions options, CancellationToken cancel)
    {
        SweepOutcome? outcome = null;
        int kept = 0;
        try
        {
            Err.Progress().AutoClear(true).HideCompleted(true)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                    new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var display = new Display(ctx, () => kept++);
                    outcome = new SweepRunner(spec, source, options, display).Run(cancel);
                });
        }
        catch (OperationCanceledException)
        {
            Err.MarkupLine($"[yellow]interrupted:[/] {kept} record(s) written by this run are kept; run the same command again to resume.");
            return null;
        }
        if (outcome!.Skipped > 0)
            Err.MarkupLine($"[grey]{outcome.Skipped} of {outcome.TotalCells} cells already in {Markup.Escape(outcome.Output)} were skipped[/]");
        return outcome;
    }

    /// <summary>One row per record: model, format (policy), task, the headline metrics with intervals, size.</summary>
    public static void PrintRecords(IReadOnlyList<ResultRecord> records, string title = "Results")
    {
        if (records.Count == 0) return;
        // Redirected output has no terminal width; Spectre would wrap the table at 80 columns.
        var table = new Table().Title(title).Border(TableBorder.Rounded);
        foreach (string c in new[] { "model", "format", "policy", "task", "metrics", "size MB", "bits/weight" }) table.AddColumn(c);
        var order = ResultTable.MetricOrder;
        foreach (var r in records.OrderBy(r => r.Model.Name).ThenByDescending(r => r.Size?.BitsPerWeight ?? 0).ThenBy(r => r.Format).ThenBy(r => r.Policy).ThenBy(r => r.Task.Name))
        {
            var metrics = r.Metrics.Where(m => order.Contains(m.Key)).OrderBy(m => order.ToList().IndexOf(m.Key))
                .Select(m => $"{m.Key} {Format(m.Value)}");
            table.AddRow(Markup.Escape(r.Model.Name), Markup.Escape(r.Format), Markup.Escape(r.Key.EngineImplied ? r.Policy : $"{r.Policy} @ {r.Engine}"), Markup.Escape(r.Task.Name),
                Markup.Escape(string.Join("\n", metrics)),
                r.Size is null ? "" : (r.Size.Bytes / 1e6).ToString("0.00", CultureInfo.InvariantCulture),
                r.Size is null ? "" : r.Size.BitsPerWeight.ToString("0.00", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
    }

    /// <summary>The size table of a results folder, when the sweep recorded one.</summary>
    public static void PrintSizeTable(string root)
    {
        if (ReportInputs.LoadSizeTable(root) is not { Rows.Count: > 0 } sizes) return;
        var table = new Table().Title(Markup.Escape(sizes.Title)).Border(TableBorder.Rounded);
        foreach (string c in new[] { "preset", "format", "policy", "GB", "GiB", "bits/weight" }) table.AddColumn(c);
        foreach (var r in sizes.Rows)
            table.AddRow(Markup.Escape(r.Preset), Markup.Escape(r.Format), Markup.Escape(r.Policy), (r.Bytes / 1e9).ToString("0.00", CultureInfo.InvariantCulture),
                (r.Bytes / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture), r.BitsPerWeight.ToString("0.000", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
    }

    /// <summary>Where the report went and what could not be drawn.</summary>
    public static void PrintReport(ReportOutput report)
    {
        Err.MarkupLine($"[green]report:[/] {Markup.Escape(report.ReportPath)} · {Markup.Escape(report.CsvPath)} · {report.Charts.Count} chart(s) · {report.RecordCount} record(s)");
        foreach (string problem in report.Problems) Err.MarkupLine($"[yellow]warning:[/] {Markup.Escape(problem)}");
    }

    private static string Format(MetricValue v)
    {
        string F(double x) => Math.Abs(x) >= 1e6 ? x.ToString("0.###e0", CultureInfo.InvariantCulture) : x.ToString("0.####", CultureInfo.InvariantCulture);
        return v.Lower is double lo && v.Upper is double hi ? $"{F(v.Value)} [{F(lo)}, {F(hi)}]" : F(v.Value);
    }

    private sealed class Display(ProgressContext ctx, Action recordWritten) : ISweepProgress
    {
        private ProgressTask? _cells;
        private ProgressTask? _current;
        private int _done;

        public void Planned(int totalCells, int alreadyDone)
        {
            _done = alreadyDone;
            if (totalCells == 0) return;
            _cells = ctx.AddTask("cells", maxValue: totalCells);
            _cells.Value = alreadyDone;
            _cells.Description = $"cells {alreadyDone}/{totalCells}";
        }

        public void Activity(string description, SweepCell? cell = null)
        {
            _current?.StopTask();
            _current = ctx.AddTask(Markup.Escape(description), autoStart: true, maxValue: 1);
            _current.IsIndeterminate = true;
        }

        public void Progress(EvaluationProgress progress)
        {
            if (_current is null) return;
            _current.IsIndeterminate = false;
            _current.MaxValue = Math.Max(1, progress.Total);
            _current.Value = progress.Done;
            string description = _current.Description;
            int bracket = description.LastIndexOf(" [grey]", StringComparison.Ordinal);
            if (bracket >= 0) description = description[..bracket];
            _current.Description = $"{description} [grey]{progress.Done}/{progress.Total} {Markup.Escape(progress.Unit)}[/]";
        }

        public void CellFinished(SweepCell cell, ResultRecord record)
        {
            recordWritten();
            if (_cells is null) return;
            _done++;
            _cells.Value = _done;
            _cells.Description = $"cells {_done}/{_cells.MaxValue}";
            _current?.StopTask();
            _current = null;
        }
    }
}
