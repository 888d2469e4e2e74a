// ProxyModel: the built-in trained proxy Llama — corpus, tokenizer, training and the benchmark suite, made once
// into a cache folder and reused; every step deterministic from fixed seeds.
using System.Text.Json;
using Compression.IO;
using Compression.Model;
using Compression.Tokenization;
using Compression.Training.Corpus;
using Compression.Training.Suite;

namespace Compression.Training;

/// <summary>Where the proxy's pieces live under its cache folder.</summary>
public sealed record ProxyPaths(string Root)
{
    public string Corpus => Path.Combine(Root, "corpus");
    public string Suite => Path.Combine(Root, "suite");
    public string Tokenizer => Path.Combine(Root, "tokenizer");
    public string Checkpoint => Path.Combine(Root, "checkpoint");
    /// <summary>The finished model: config.json, model.safetensors, tokenizer.json, training.json.</summary>
    public string Model => Path.Combine(Root, "proxy-llama");
    public string Manifest => Path.Combine(Model, ProxyModel.ManifestFileName);
}

/// <summary>What the training run achieved, saved beside the model.</summary>
public sealed record ProxyManifest(int Steps, long TokensSeen, double FinalTrainLoss, double ValidationLoss, double ValidationPerplexity,
    double TrainSeconds, double TokensPerSecond, double CorpusEntropyBitsPerByte, double ValidationBitsPerByte, int VocabSize, long Parameters);

public static class ProxyModel
{
    public const string ManifestFileName = "training.json";
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
        if (File.Exists(paths.Manifest)) return paths.Model;
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

        double validLoss = result.ValidationLoss ?? trainer.ValidationLoss();
        var corpus = CorpusManifest.Read(paths.Corpus);
        double validBytes = new FileInfo(Path.Combine(paths.Corpus, "valid.txt")).Length;
        var manifest = new ProxyManifest(trainer.Step, (long)trainer.Step * options.TokensPerStep, result.LastLoss, validLoss, Math.Exp(validLoss),
            result.Elapsed.TotalSeconds, result.TokensPerSecond, corpus.EntropyBitsPerByte,
            validLoss / Math.Log(2) * valid.Length / validBytes, tokenizer.VocabSize, LlamaTensorLayout.ParameterCount(options.Config));

        // The finished model: the last checkpoint's weights and config, the tokenizer, and the manifest last.
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

    // Whether dir holds a complete suite (its manifest is written last) from this generator version.
    private static bool SuiteIsCurrent(string dir)
    {
        if (!File.Exists(Path.Combine(dir, SuiteManifest.FileName))) return false;
        try { return SuiteManifest.Read(dir).Version == BenchmarkSuiteGenerator.Version; }
        catch (InvalidDataException) { return false; }
    }

    /// <summary>The manifest of a finished proxy, or null.</summary>
    public static ProxyManifest? ReadManifest(string root)
    {
        var path = new ProxyPaths(root).Manifest;
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
