// compress: the workbench's command line. Each command lives in Commands/<Name>Command.cs.
using System.CommandLine;
using Compression.Cli.Commands;
using Spectre.Console;

// The built-in proxy model, trained on first use (experiments refer to it as {"preset": "proxy"}).
// Inside a sweep the runner owns the console, so training reports through its log line.
Compression.Experiments.ModelPresets.Register("proxy", (log, cancel) => Compression.Training.ProxyModel.Ensure(TrainCommand.ProxyRoot, log,
    p => log?.Report($"training the proxy: step {p.Step}/{p.TotalSteps}, loss {p.Loss:F3}, {p.TokensPerSecond:N0} tok/s"), cancel));

// Piped or logged output: wide tables instead of Spectre's 80-column wrapping.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);

var root = new RootCommand("Compression — a research workbench for compressing Llama-family language models.");
foreach (var command in new[]
{
    InspectCommand.Create(),
    GenerateCommand.Create(),
    LogitsCommand.Create(),
    SynthCommand.Create(),
    QuantizeCommand.Create(),
    EvalCommand.Create(),
    BenchCommand.Create(),
    ReportCommand.Create(),
    PlotCommand.Create(),
    RunCommand.Create(),
    TrainCommand.Create(),
    SensitivityCommand.Create(),
    PlanCommand.Create(),
})
    root.Subcommands.Add(command);

try
{
    // Our handler below prints bad input as one line; unexpected errors still surface with their stack trace.
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or NotSupportedException)
{
    // Bad input: one clear line naming the file and the problem, no stack trace.
    var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
    err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
    return 1;
}
