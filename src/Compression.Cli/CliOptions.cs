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

    /// <summary>The calibration set of a calibrated method: --calibration FILE, --calibration-sequences N, --calibration-length L, --seed.</summary>
    public sealed record CalibrationOptions(Option<string?> File, Option<int> Sequences, Option<int> Length, Option<int> Seed)
    {
        public IEnumerable<Option> All => [File, Sequences, Length, Seed];
    }

    public static CalibrationOptions Calibration() => new(
        new Option<string?>("--calibration") { Description = "Calibration text (paragraphs) or JSONL (\"text\") for a calibrated method, or, with quantize --engine llama.cpp, for the importance matrix" },
        new Option<int>("--calibration-sequences") { Description = "Calibration sequences N", DefaultValueFactory = _ => 32 },
        new Option<int>("--calibration-length") { Description = "Tokens per calibration sequence L", DefaultValueFactory = _ => 256 },
        new Option<int>("--seed") { Description = "Seed of the calibration windows", DefaultValueFactory = _ => 1234 });

    public static Option<bool> AllowNonFinite() => new("--allow-nonfinite")
    {
        Description = "Load (or write) weights that hold NaN or ±Inf instead of refusing them — for studying broken models",
    };

    /// <summary>
    /// The range rules every numeric option shares, added to <paramref name="command"/> and its subcommands: counts
    /// (every integer option but --seed, and export's --block, whose −1 means one group per row and which the command checks
    /// against its own list) must be ≥ 0 and real-valued options finite. A violation is a usage error
    /// naming the option and the value. Options with narrower ranges add their own validator beside these.
    /// </summary>
    public static void AddRangeChecks(Command command)
    {
        foreach (var option in command.Options)
        {
            string name = option.Name;
            switch (option)
            {
                case Option<int> i when name is not ("--seed" or "--block"):
                    i.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 and var v) r.AddError($"{name} {v}: must be ≥ 0"); });
                    break;
                case Option<int?> n:
                    n.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is < 0 and var v) r.AddError($"{name} {v}: must be ≥ 0"); });
                    break;
                case Option<string> or Option<string?> when name is not ("--prompt" or "--text"):
                    // An empty path (a shell variable that was not set) is never meant; say which option it was.
                    option.Validators.Add(r =>
                    {
                        if (r.Tokens.Count > 0 && r.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value))) r.AddError($"{name}: the value is empty");
                    });
                    break;
                case Option<double> d:
                    d.Validators.Add(r => { if (!double.IsFinite(r.GetValueOrDefault<double>())) r.AddError($"{name} {r.GetValueOrDefault<double>()}: must be a finite number"); });
                    break;
            }
        }
        foreach (var sub in command.Subcommands) AddRangeChecks(sub);
    }

    /// <summary>Adds a validator to <paramref name="option"/>: <paramref name="problem"/> returns an error message, or null when the value is fine.</summary>
    public static Option<T> Check<T>(this Option<T> option, Func<T, string?> problem)
    {
        option.Validators.Add(r =>
        {
            if (problem(r.GetValueOrDefault<T>()!) is { } message) r.AddError($"{option.Name} {r.GetValueOrDefault<T>()}: {message}");
        });
        return option;
    }

    /// <summary>Opens a model with a progress bar on standard error (standard output stays clean for data); for a command
    /// that will <paramref name="decode"/>, also writes the decode layouts <c>COMPRESS_REPACK=1</c> asks for, with a bar of
    /// their own, instead of on the first decoded token.</summary>
    public static ModelSession Load(string path, string device, string dtype, bool allowNonFinite = false, bool decode = false)
    {
        // Option errors before the progress display starts, so they are the only output.
        ModelSession.ParseDevice(device);
        ModelSession.ParseDType(dtype);
        var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        ModelSession? session = null;
        err.Progress().AutoClear(true).HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"loading {Path.GetFileName(path.TrimEnd('/'))}");
                session = ModelSession.Open(path, new ModelSessionOptions
                {
                    Device = device, DType = dtype, PackedLayers = PackedLoading.Hooks, AllowNonFinite = allowNonFinite,
                    Progress = new Progress<(int Done, int Total, string Name)>(p => { task.MaxValue = p.Total; task.Value = p.Done; }),
                });
                if (decode && Compression.Kernels.DecodeLayout.Enabled)
                {
                    var layouts = ctx.AddTask($"writing decode layouts ({Compression.Kernels.DecodeLayout.EnvironmentVariable}=1)");
                    session.WriteDecodeLayouts(new Progress<(int Done, int Total, string Name)>(p => { layouts.MaxValue = p.Total; layouts.Value = p.Done; }));
                }
            });
        return session!;
    }
}
