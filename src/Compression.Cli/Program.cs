// compress: the workbench's command line. Each command lives in Commands/<Name>Command.cs.
using System.CommandLine;
using Compression.Cli.Commands;
using Compression.Cli;
using Spectre.Console;

// libtorch's CPU code paths pinned before its first operation, so results are the same bits on every machine.
Compression.Training.NativeCpuPins.Apply();

// The built-in proxy model (experiments refer to it as {"preset": "proxy"}): the one shipped in experiments/models/proxy-llama,
// verified against its manifest, or trained on first use when run outside the repository root.
// Inside a sweep the runner owns the console, so training reports through its log line.
Compression.Experiments.ModelPresets.Register("proxy", (log, cancel) => Compression.Training.ProxyModel.Resolve(TrainCommand.ProxyRoot,
    Compression.Training.ProxyModel.ShippedDirectory, log,
    p => log?.Report($"training the proxy: step {p.Step}/{p.TotalSteps}, loss {p.Loss:F3}, {p.TokensPerSecond:N0} tok/s"), cancel));

// The proxy that retrieves ({"preset": "proxy-retrieval"}): the proxy continued on whole stories, shipped in
// experiments/models/proxy-retrieval; trained from the proxy on first use outside the repository root.
Compression.Experiments.ModelPresets.Register("proxy-retrieval", (log, cancel) => Compression.Training.RetrievalProxy.Resolve(TrainCommand.RetrievalRoot,
    Compression.Training.RetrievalProxy.ShippedDirectory, TrainCommand.ProxyRoot, Compression.Training.ProxyModel.ShippedDirectory, log,
    p => log?.Report($"training the retrieval proxy: step {p.Step}/{p.TotalSteps}, loss {p.Loss:F3}, {p.TokensPerSecond:N0} tok/s"), cancel));

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
    ExportCommand.Create(),
    EvalCommand.Create(),
    BenchCommand.Create(),
    ReportCommand.Create(),
    PlotCommand.Create(),
    RunCommand.Create(),
    TrainCommand.Create(),
    QatCommand.Create(),
    SensitivityCommand.Create(),
    PlanCommand.Create(),
})
    root.Subcommands.Add(command);
CliOptions.AddRangeChecks(root);

// --verbose is accepted by every command; it only changes how errors are printed.
root.Options.Add(new Option<bool>(CliErrors.VerboseOption) { Description = "Print the stack trace of an error (also COMPRESS_VERBOSE=1)", Recursive = true });
bool verbose = CliErrors.Verbose(args);

try
{
    var parsed = root.Parse(args);
    if (parsed.Errors.Count > 0)
        return CliErrors.ReportUsage(parsed.Errors.Select(e => e.Message), string.Join(' ', new[] { "compress" }.Concat(
            parsed.CommandResult.Command == root ? [] : [parsed.CommandResult.Command.Name])));
    // Errors are ours to print (one line, exit code by kind), not the library's default stack-trace handler.
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    return CliErrors.Report(e, verbose);
}
