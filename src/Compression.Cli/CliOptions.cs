// CliOptions: options shared by the commands that run a model (--model, --device, --dtype), and model loading with progress.
using System.CommandLine;
using Compression.Inference;
using Compression.Quantization;
using Spectre.Console;

namespace Compression.Cli;

internal static class CliOptions
{
    public static Option<string> Model(bool required = true) => new("--model", "-m")
    {
        Description = "A Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json) or a .gguf file",
        Required = required,
    };

    public static Option<string> Device() => new("--device")
    {
        Description = "Where the model runs: cpu (default), cuda, cuda:N (needs a build with -p:TorchBackend=cuda)",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<string> DType() => new("--dtype")
    {
        Description = "Activation dtype: f32 (default), bf16 or f16. With f32 on CPU, quantized and 16-bit weights stay packed; bf16/f16 load every weight dense in that dtype",
        DefaultValueFactory = _ => "f32",
    };

    /// <summary>Opens a model with a progress bar on standard error (standard output stays clean for data).</summary>
    public static ModelSession Load(string path, string device, string dtype)
    {
        var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        ModelSession? session = null;
        err.Progress().AutoClear(true).HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"loading {Path.GetFileName(path.TrimEnd('/'))}");
                session = ModelSession.Open(path, new ModelSessionOptions
                {
                    Device = device, DType = dtype, PackedLayers = PackedLoading.Hooks,
                    Progress = new Progress<(int Done, int Total, string Name)>(p => { task.MaxValue = p.Total; task.Value = p.Done; }),
                });
            });
        return session!;
    }
}
