// Tiny configs, repetitive token streams and temp directories shared by the trainer tests.
using Compression.Model;
using Compression.Training;

namespace Compression.Tests.Training;

internal static class TrainerTestData
{
    /// <summary>A 2-layer GQA Llama with llama3 rope scaling, small enough to train in milliseconds per step.</summary>
    public static LlamaConfig TinyConfig => new()
    {
        HiddenSize = 32, IntermediateSize = 64, NumLayers = 2, NumHeads = 4, NumKeyValueHeadsRaw = 2, HeadDimRaw = 8,
        VocabSize = 32, MaxPositionEmbeddings = 64, RopeTheta = 10000,
        RopeScaling = new RopeScaling { RopeType = "llama3", Factor = 4, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 16 },
        BosTokenIds = [1], EosTokenIds = [2], ModelType = "llama",
    };

    public static TrainingOptions TinyOptions(int totalSteps = 12) => new()
    {
        Config = TinyConfig, Seed = 7, BatchSize = 4, SequenceLength = 16, TotalSteps = totalSteps, WarmupSteps = 2,
        PeakLearningRate = 1e-2, MinLearningRateRatio = 0.1, EvalInterval = 0, EvalBatches = 2, CheckpointInterval = 0,
    };

    /// <summary>A fixed random phrase of <paramref name="period"/> tokens repeated: learnable, so loss must fall.</summary>
    public static int[] Repetitive(int length, int period = 24, int seed = 3, int vocab = 32)
    {
        var rng = new Random(seed);
        var phrase = Enumerable.Range(0, period).Select(_ => rng.Next(vocab)).ToArray();
        return Enumerable.Range(0, length).Select(i => phrase[i % period]).ToArray();
    }

    public static double[] Losses(Trainer t) => t.History.Select(h => h.Loss).ToArray();
}

/// <summary>A fresh directory under the system temp folder, deleted with its siblings (.saving, .previous) on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Root = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "compression-trainer-tests", Guid.NewGuid().ToString("n"))).FullName;
    public string Root { get; }
    public string Sub(string name) => System.IO.Path.Combine(Root, name);
    public void Dispose() { if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true); }
}
