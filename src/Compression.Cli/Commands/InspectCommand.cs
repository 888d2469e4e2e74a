// compress inspect: parameter counts and sizes of a config, a checkpoint directory or a GGUF file.
using System.CommandLine;
using Compression.Model;

namespace Compression.Cli.Commands;

internal static class InspectCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "config.json (or a preset name such as llama-3.1-8b)" };
        var command = new Command("inspect", "Parameter counts and sizes of a config, checkpoint directory or GGUF file");
        command.Options.Add(config);
        command.SetAction(parse =>
        {
            string? path = parse.GetValue(config);
            var c = path is null ? LlamaConfig.Llama31_8B : File.Exists(path) || Directory.Exists(path) ? LlamaConfig.Load(path) : LlamaConfig.Preset(path);
            Console.WriteLine($"{LlamaTensorLayout.ParameterCount(c):N0}");
            return 0;
        });
        return command;
    }
}
