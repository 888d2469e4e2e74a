// RetrievalProxy: the proxy's second training stage — the trained proxy continued on whole stories (512-token windows of
// a larger split of the same corpus) until it looks facts up in its context.
using System.Text.Json.Nodes;
using Compression.Model;
using Compression.Tokenization;
using Compression.Training.Corpus;

namespace Compression.Training;

/// <summary>
/// <c>compress train --preset proxy-retrieval</c>. Stage 1 is the proxy itself (the shipped one, verified, or one trained
/// under the proxy's cache folder); stage 2 continues from its weights with <see cref="TrainingOptions.ProxyRetrieval"/>
/// on a 4× larger train split of the same seeded corpus (the first 12 MB are the proxy's own train split; validation and
/// test splits are the proxy's), with the proxy's tokenizer, so every suite and spec reads it exactly like the proxy.
/// </summary>
/// <remarks>
/// Why a second stage rather than a longer first one: the proxy's 128-token windows rarely hold a story's introductions
/// together with the references back to them (a long-range story is ~150–250 tokens), so the referred values look like
/// noise to it; and its 2.5 M tokens are too few for the attention pattern retrieval needs (a head that finds the
/// person's earlier fact and copies it) to form. Continuing the trained model keeps its other skills as a base.
/// </remarks>
public static class RetrievalProxy
{
    /// <summary>Where the retrieval proxy is shipped, relative to the repository root.</summary>
    public const string ShippedDirectory = "experiments/models/proxy-retrieval";
    public const string ModelName = "proxy-retrieval";
    /// <summary>Train split bytes: the proxy's 12 MB and 36 MB more of the same generator (documents are a function of their index).</summary>
    public const long TrainBytes = 4 * ProxyModel.TrainBytes;

    /// <summary>
    /// The model a <c>{"preset": "proxy-retrieval"}</c> spec evaluates: the one shipped in <paramref name="shipped"/> when it is
    /// there (verified against its manifest), else one trained under <paramref name="root"/> from the proxy that
    /// <see cref="ProxyModel.Resolve"/> gives for <paramref name="proxyRoot"/>. The proxy's corpus and suite under
    /// <paramref name="proxyRoot"/> are made either way: the tasks read them (the retrieval proxy shares its tokenizer and suite).
    /// </summary>
    public static string Resolve(string root, string shipped, string proxyRoot, string proxyShipped, IProgress<string>? log = null,
        Action<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        if (File.Exists(Path.Combine(shipped, ShippedModel.ManifestFileName)))
        {
            log?.Report($"verifying the shipped retrieval proxy in {shipped}");
            ShippedModel.Verify(shipped);
            ProxyModel.EnsureData(proxyRoot, log);
            return shipped;
        }
        log?.Report($"no shipped retrieval proxy at {shipped} (run from the repository root to use it): training one under {root}");
        string stage1 = ProxyModel.Resolve(proxyRoot, proxyShipped, log, progress, cancel);
        return Ensure(root, stage1, log, progress, cancel);
    }

    /// <summary>
    /// Makes (or reuses, or resumes) the retrieval proxy under <paramref name="root"/>, continuing from the stage-1 model
    /// in <paramref name="stage1"/> (a proxy model folder: config, weights, tokenizer). Returns the model directory.
    /// </summary>
    public static string Ensure(string root, string stage1, IProgress<string>? log = null, Action<TrainingProgress>? progress = null,
        CancellationToken cancel = default, int? steps = null)
    {
        var paths = new ProxyPaths(root, ModelName);
        if (File.Exists(paths.Manifest)) return paths.Model;
        if (!File.Exists(Path.Combine(paths.Corpus, CorpusManifest.FileName)))
        {
            log?.Report($"writing the synthetic corpus ({TrainBytes / 1_000_000} MB train split) to {paths.Corpus}");
            new CorpusGenerator(ProxyModel.CorpusSeed).WriteSplits(paths.Corpus, TrainBytes, ProxyModel.ValidBytes, ProxyModel.TestBytes);
        }
        string tokenizerJson = Path.Combine(paths.Tokenizer, "tokenizer.json");
        if (!File.Exists(tokenizerJson))
        {
            Directory.CreateDirectory(paths.Tokenizer);
            foreach (var name in new[] { "tokenizer_config.json", "tokenizer.json" }) // tokenizer.json last: its presence means done
            {
                string from = Path.Combine(stage1, name);
                if (File.Exists(from)) File.Copy(from, Path.Combine(paths.Tokenizer, name), overwrite: true);
            }
            if (!File.Exists(tokenizerJson)) throw new FileNotFoundException($"{stage1}: the stage-1 model has no tokenizer.json", Path.Combine(stage1, "tokenizer.json"));
        }
        var tokenizer = new LlamaTokenizer(TokenizerJson.Load(tokenizerJson));

        log?.Report("tokenizing the corpus");
        int[] train = ProxyModel.EncodeDocuments(tokenizer, Path.Combine(paths.Corpus, "train.txt"));
        int[] valid = ProxyModel.EncodeDocuments(tokenizer, Path.Combine(paths.Corpus, "valid.txt"));

        var config = LlamaConfig.Load(Path.Combine(stage1, "config.json"));
        var preset = TrainingOptions.ProxyRetrieval;
        var options = preset with
        {
            Config = config with { TorchDtype = "float32" },
            TotalSteps = steps ?? preset.TotalSteps,
            WarmupSteps = Math.Min(preset.WarmupSteps, (steps ?? preset.TotalSteps) / 10),
            CheckpointInterval = Math.Min(preset.CheckpointInterval, steps ?? preset.TotalSteps),
        };
        bool resuming = File.Exists(Path.Combine(paths.Checkpoint, TrainerState.FileName));
        using var trainer = resuming ? Trainer.Resume(paths.Checkpoint, train, valid) : new Trainer(options, train, valid, paths.Checkpoint);
        if (!resuming)
        {
            log?.Report($"initialising from {stage1}");
            trainer.InitialiseWeightsFrom(stage1);
            trainer.Validate(); // step 0: the stage-1 model's level on this stage's validation windows
        }
        log?.Report(trainer.Step > 0 ? $"resuming training at step {trainer.Step}" : $"training the retrieval stage ({options.TotalSteps} steps)");
        var result = trainer.Train(progress, cancel);
        cancel.ThrowIfCancellationRequested();
        if (result.Cancelled) throw new OperationCanceledException("training was interrupted; the checkpoint is kept and the next run resumes");
        return ProxyModel.Finish(paths, trainer, result, tokenizer, valid);
    }

    /// <summary>
    /// Writes the finished retrieval proxy under <paramref name="root"/> as a shipped model in <paramref name="destination"/>
    /// (see <see cref="ProxyModel.Export(ProxyPaths, string, string, string, long, JsonObject?)"/>), naming its stage 1.
    /// </summary>
    public static IReadOnlyList<ShippedFile> Export(string root, string stage1, string destination)
    {
        string stage1Weights = Path.Combine(stage1, "model.safetensors");
        var from = new JsonObject { ["model"] = Path.GetFileName(Path.GetFullPath(stage1).TrimEnd(Path.DirectorySeparatorChar)), ["weights_sha256"] = ShippedModel.Sha256Of(stage1Weights) };
        return ProxyModel.Export(new ProxyPaths(root, ModelName), destination, "compress train --preset proxy-retrieval",
            "The built-in proxy that retrieves: the proxy (stage 1, experiments/models/proxy-llama) continued on whole stories until it " +
            "looks facts up in its context. `compress train --preset proxy-retrieval` rebuilds it from the shipped proxy under " +
            ".cache/proxy-retrieval; `--export DIR` writes it in this form.", TrainBytes, from);
    }
}
