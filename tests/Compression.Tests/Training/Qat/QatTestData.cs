// Shared by the QAT tests: the options of a tiny QAT run and a teacher that has learned the repetitive stream.
using Compression.Model;
using Compression.Training;

namespace Compression.Tests.Training.Qat;

internal static class QatTestData
{
    /// <summary>Options of a tiny run on <paramref name="config"/>: one warm-up step, two validation batches, no weight decay.</summary>
    public static TrainingOptions Options(LlamaConfig config, int steps, double lr) => TrainerTestData.TinyOptions(steps) with
    {
        Config = config, PeakLearningRate = lr, WarmupSteps = 1, EvalBatches = 2, WeightDecay = 0,
    };

    /// <summary>A teacher that has learned something (<paramref name="steps"/> steps on the stream), so its distribution is not uniform.</summary>
    public static Trainer TrainedTeacher(LlamaConfig config, int[] train, int[] valid, int steps = 40)
    {
        var t = new Trainer(Options(config, steps, 1e-2), train, valid);
        t.Train();
        t.Model.eval();
        return t;
    }
}
