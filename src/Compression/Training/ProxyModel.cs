// ProxyModel: the built-in trained proxy Llama — corpus, tokenizer, training and the benchmark suite, made once
// into a cache folder and reused; every step deterministic from fixed seeds.
using System.Text.Json;
using System.Text.Json.Nodes;
using Compression.IO;
using Compression.Model;
using Compression.Tokenization;
using Compression.Training.Corpus;
using Compression.Training.Suite;

namespace Compression.Training;

/// <summary>Where the proxy's pieces live under its cache folder.</summary>
public sealed record ProxyPaths(string Root, string ModelName = "proxy-llama")
{
    public string Corpus => Path.Combine(Root, "corpus");
    public string Suite => Path.Combine(Root, "suite");
    public string Tokenizer => Path.Combine(Root, "tokenizer");
    public string Checkpoint => Path.Combine(Root, "checkpoint");
    /// <summary>The finished model: config.json, model.safetensors, tokenizer.json, training.json.</summary>
    public string Model => Path.Combine(Root, ModelName);
    public string Manifest => Path.Combine(Model, ProxyModel.ManifestFileName);
}

/// <summary>What the training run achieved, saved beside the model.</summary>
/// <param name="Machine">The machine it trained on (<see cref="Reporting.MachineInfo.Summary"/>); null in manifests from before it was recorded.</param>
/// <param name="NativePins">libtorch's CPU code-path variables as the training process saw them (<see cref="NativeCpuPins"/>).</param>
public sealed record ProxyManifest(int Steps, long TokensSeen, double FinalTrainLoss, double ValidationLoss, double ValidationPerplexity,
    double TrainSeconds, double TokensPerSecond, double CorpusEntropyBitsPerByte, double ValidationBitsPerByte, int VocabSize, long Parameters,
    string? Machine = null, string? NativePins = null);

public static class ProxyModel
{
    public const string ManifestFileName = "training.json";
    /// <summary>The proxy shipped with the repository, relative to its root (where `compress run` runs).</summary>
    public const string ShippedDirectory = "experiments/models/proxy-llama";
    public const int CorpusSeed = 20261125;
    /// <summary>Held out from the corpus: the suite's items come from their own seed streams.</summary>
    public const int SuiteSeed = 777;
    public const int SuiteItemsPerCategory = 250;
    public const long TrainBytes = 12_000_000, ValidBytes = 600_000, TestBytes = 600_000;

    /// <summary>
    /// Makes (or reuses) everything under <paramref name="root"/> and returns the model directory. An
    /// interrupted run resumes from the last training checkpoint. <paramref name="steps"/> overrides the preset's step count.
    /// </summary>
    public static string Ensure(string root, IProgress<string>? log = null, Action<TrainingProgress>? progress = null,
        CancellationToken cancel = default, int? steps = null)
    {
        var paths = new ProxyPaths(root);
        EnsureData(root, log);
        if (File.Exists(paths.Manifest)) return paths.Model;
        return Train(paths, log, progress, cancel, steps);
    }

    /// <summary>
    /// The model a <c>{"preset": "proxy"}</c> spec evaluates: the one shipped in <paramref name="shipped"/> when it is
    /// there (its files verified against its manifest; a modified file is refused), else one trained under
    /// <paramref name="root"/>. The corpus and suite under <paramref name="root"/> are made either way: the tasks read them.
    /// </summary>
    public static string Resolve(string root, string shipped, IProgress<string>? log = null, Action<TrainingProgress>? progress = null,
        CancellationToken cancel = default)
    {
        if (!File.Exists(Path.Combine(shipped, ShippedModel.ManifestFileName)))
        {
            log?.Report($"no shipped proxy at {shipped} (run from the repository root to use it): training one under {root}");
            return Ensure(root, log, progress, cancel);
        }
        log?.Report($"verifying the shipped proxy in {shipped}");
        ShippedModel.Verify(shipped);
        EnsureData(root, log);
        return shipped;
    }

    /// <summary>The corpus and benchmark suite under <paramref name="root"/>: written when missing or from an older generator.</summary>
    public static void EnsureData(string root, IProgress<string>? log = null)
    {
        var paths = new ProxyPaths(root);
        // The corpus and suite are cheap and the experiments read them: make sure they exist even when the model does.
        if (!File.Exists(Path.Combine(paths.Corpus, CorpusManifest.FileName)))
        {
            log?.Report($"writing the synthetic corpus to {paths.Corpus}");
            new CorpusGenerator(CorpusSeed).WriteSplits(paths.Corpus, TrainBytes, ValidBytes, TestBytes);
        }
        if (!SuiteIsCurrent(paths.Suite))
        {
            // A suite written by an older generator is replaced whole, so no stale category file stays where the
            // experiments' suite/*.jsonl would still pick it up.
            if (Directory.Exists(paths.Suite)) Directory.Delete(paths.Suite, recursive: true);
            log?.Report($"writing the benchmark suite to {paths.Suite}");
            BenchmarkSuiteGenerator.Write(paths.Suite, SuiteItemsPerCategory, SuiteSeed);
        }
    }

    private static string Train(ProxyPaths paths, IProgress<string>? log, Action<TrainingProgress>? progress, CancellationToken cancel, int? steps)
    {
        string tokenizerJson = Path.Combine(paths.Tokenizer, "tokenizer.json");
        if (!File.Exists(tokenizerJson))
        {
            log?.Report("training the byte-level BPE tokenizer (1024 tokens)");
            var trained = BpeTrainer.TrainFile(Path.Combine(paths.Corpus, "train.txt"), LlamaConfig.Preset("proxy").VocabSize);
            Directory.CreateDirectory(paths.Tokenizer);
            TokenizerJson.Save(trained, tokenizerJson);
        }
        var tokenizer = new LlamaTokenizer(TokenizerJson.Load(tokenizerJson));

        log?.Report("tokenizing the corpus");
        int[] train = EncodeDocuments(tokenizer, Path.Combine(paths.Corpus, "train.txt"));
        int[] valid = EncodeDocuments(tokenizer, Path.Combine(paths.Corpus, "valid.txt"));

        var options = TrainingOptions.Proxy with
        {
            Config = LlamaConfig.Preset("proxy") with { BosTokenIds = [tokenizer.BosId!.Value], EosTokenIds = [tokenizer.EosId!.Value] },
            TotalSteps = steps ?? TrainingOptions.Proxy.TotalSteps,
            WarmupSteps = Math.Min(TrainingOptions.Proxy.WarmupSteps, (steps ?? TrainingOptions.Proxy.TotalSteps) / 10),
            CheckpointInterval = Math.Min(TrainingOptions.Proxy.CheckpointInterval, steps ?? TrainingOptions.Proxy.TotalSteps),
        };
        using var trainer = File.Exists(Path.Combine(paths.Checkpoint, TrainerState.FileName))
            ? Trainer.Resume(paths.Checkpoint, train, valid)
            : new Trainer(options, train, valid, paths.Checkpoint);
        log?.Report(trainer.Step > 0 ? $"resuming training at step {trainer.Step}" : $"training the proxy ({options.TotalSteps} steps)");
        var result = trainer.Train(progress, cancel);
        cancel.ThrowIfCancellationRequested();
        if (result.Cancelled) throw new OperationCanceledException("training was interrupted; the checkpoint is kept and the next run resumes");
        return Finish(paths, trainer, result, tokenizer, valid);
    }

    /// <summary>
    /// Writes the finished model of a completed run into <see cref="ProxyPaths.Model"/>: the last checkpoint's weights and
    /// config, the tokenizer, and the manifest last (atomically: a staging folder renamed into place).
    /// </summary>
    internal static string Finish(ProxyPaths paths, Trainer trainer, TrainingResult result, LlamaTokenizer tokenizer, int[] valid)
    {
        var options = trainer.Options;
        double validLoss = result.ValidationLoss ?? trainer.ValidationLoss();
        var corpus = CorpusManifest.Read(paths.Corpus);
        double validBytes = new FileInfo(Path.Combine(paths.Corpus, "valid.txt")).Length;
        var manifest = new ProxyManifest(trainer.Step, (long)trainer.Step * options.TokensPerStep, result.LastLoss, validLoss, Math.Exp(validLoss),
            result.Elapsed.TotalSeconds, result.TokensPerSecond, corpus.EntropyBitsPerByte,
            validLoss / Math.Log(2) * valid.Length / validBytes, tokenizer.VocabSize, LlamaTensorLayout.ParameterCount(options.Config),
            Reporting.MachineInfo.Current.Summary, NativeCpuPins.Describe());

        string staging = paths.Model + ".saving";
        if (Directory.Exists(staging)) Directory.Delete(staging, true);
        Directory.CreateDirectory(staging);
        foreach (var file in new[] { "config.json", "model.safetensors" })
            File.Copy(Path.Combine(paths.Checkpoint, file), Path.Combine(staging, file));
        foreach (var file in Directory.GetFiles(paths.Tokenizer))
            File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(staging, ManifestFileName), JsonSerializer.Serialize(manifest, ProxyJson.Default.ProxyManifest));
        if (Directory.Exists(paths.Model)) Directory.Delete(paths.Model, true);
        Directory.Move(staging, paths.Model);
        return paths.Model;
    }

    /// <summary>
    /// Writes the trained proxy under <paramref name="root"/> as a shipped model in <paramref name="destination"/>: its
    /// files plus a manifest with their SHA-256, the recipe (corpus seed and sizes, tokenizer, every training option, the
    /// native CPU pins), what training reached (steps, tokens, losses, the validation curve, time) and the machine.
    /// </summary>
    public static IReadOnlyList<ShippedFile> Export(string root, string destination) =>
        Export(new ProxyPaths(root), destination, "compress train --preset proxy",
            "The built-in proxy: a Llama 3.1-architecture model trained on the project's synthetic corpus. " +
            "`compress train --preset proxy` rebuilds it from scratch under .cache/proxy; `--export DIR` writes it in this form.",
            TrainBytes, stage1: null);

    /// <summary>
    /// Writes the trained model in <paramref name="paths"/> as a shipped model: <paramref name="command"/> rebuilds it,
    /// <paramref name="trainBytes"/> is its corpus's train split, and <paramref name="stage1"/> names the model it continued
    /// from (folder and its shipped manifest's weight SHA-256), or null for a run from random weights.
    /// </summary>
    public static IReadOnlyList<ShippedFile> Export(ProxyPaths paths, string destination, string command, string description,
        long trainBytes, JsonObject? stage1)
    {
        var m = ReadModelManifest(paths.Model) ?? throw new FileNotFoundException($"{paths.Manifest}: no trained proxy to export (run compress train first)", paths.Manifest);
        var state = TrainerState.Load(Path.Combine(paths.Checkpoint, TrainerState.FileName));
        // The checkpoint's options and curve describe the model only if its weights are the model's.
        if (ShippedModel.Sha256Of(Path.Combine(paths.Checkpoint, "model.safetensors")) != ShippedModel.Sha256Of(Path.Combine(paths.Model, "model.safetensors")))
            throw new InvalidDataException($"{paths.Checkpoint}: its weights are not the finished model's in {paths.Model}; retrain before exporting");
        var corpus = CorpusManifest.Read(paths.Corpus);
        var details = new JsonObject
        {
            ["name"] = Path.GetFileName(Path.GetFullPath(destination).TrimEnd(Path.DirectorySeparatorChar)),
            ["description"] = description,
            ["recipe"] = new JsonObject
            {
                ["command"] = command,
                ["initialised_from"] = stage1,
                ["corpus"] = new JsonObject
                {
                    ["generator_version"] = corpus.Version, ["seed"] = CorpusSeed,
                    ["train_bytes"] = trainBytes, ["valid_bytes"] = ValidBytes, ["test_bytes"] = TestBytes,
                },
                ["tokenizer"] = stage1 is null ? $"byte-level BPE trained on corpus/train.txt, {m.VocabSize} tokens" : $"the stage-1 model's ({m.VocabSize} tokens)",
                ["training_options"] = JsonSerializer.SerializeToNode(state.Options),
                // Manifests written before these were recorded: the exporting process's (same machine, same pins in code).
                ["native_cpu_pins"] = m.NativePins ?? $"{NativeCpuPins.Describe()} (recorded at export)",
            },
            ["training"] = new JsonObject
            {
                ["steps"] = m.Steps, ["tokens_seen"] = m.TokensSeen, ["parameters"] = m.Parameters,
                ["final_train_loss"] = m.FinalTrainLoss, ["validation_loss"] = m.ValidationLoss,
                ["validation_perplexity"] = m.ValidationPerplexity, ["validation_bits_per_byte"] = m.ValidationBitsPerByte,
                ["corpus_entropy_bits_per_byte"] = m.CorpusEntropyBitsPerByte,
                ["train_seconds"] = Math.Round(m.TrainSeconds, 1), ["tokens_per_second"] = Math.Round(m.TokensPerSecond),
                ["validation_curve"] = new JsonArray(state.Evaluations.Select(e => (JsonNode)new JsonObject { ["step"] = e.Step, ["loss"] = e.Loss }).ToArray()),
            },
            ["machine"] = m.Machine ?? $"{Reporting.MachineInfo.Current.Summary} (recorded at export)",
            ["created_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        };
        return ShippedModel.Write(destination, Directory.GetFiles(paths.Model), details);
    }

    // Whether dir holds a complete suite (its manifest is written last) from this generator version.
    private static bool SuiteIsCurrent(string dir)
    {
        if (!File.Exists(Path.Combine(dir, SuiteManifest.FileName))) return false;
        try { return SuiteManifest.Read(dir).Version == BenchmarkSuiteGenerator.Version; }
        catch (InvalidDataException) { return false; }
    }

    /// <summary>The manifest of a finished proxy, or null.</summary>
    public static ProxyManifest? ReadManifest(string root) => ReadModelManifest(new ProxyPaths(root).Model);

    /// <summary>The training manifest (training.json) in a finished model folder, or null.</summary>
    public static ProxyManifest? ReadModelManifest(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, ManifestFileName);
        return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), ProxyJson.Default.ProxyManifest) : null;
    }

    /// <summary>Token ids of a corpus split: each document encoded with BOS, as evaluation will see it, concatenated.</summary>
    public static int[] EncodeDocuments(LlamaTokenizer tokenizer, string path)
    {
        var ids = new List<int>();
        foreach (var doc in File.ReadAllText(path).Split(CorpusGenerator.DocumentSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            ids.AddRange(tokenizer.Encode(doc, addBos: true));
            if (tokenizer.EosId is { } eos) ids.Add(eos);
        }
        return ids.ToArray();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(ProxyManifest))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class ProxyJson : System.Text.Json.Serialization.JsonSerializerContext;
