// compress: the workbench's command line. Each command lives in Commands/<Name>Command.cs.
using System.CommandLine;
using Compression.Cli.Commands;

var root = new RootCommand("Compression — a research workbench for compressing Llama-family language models.");
foreach (var command in new[]
{
    InspectCommand.Create(),
})
    root.Subcommands.Add(command);

return await root.Parse(args).InvokeAsync();
