// A second training stage: a fresh run (new schedule, fresh optimizer) that starts from an earlier run's weights — how the
// retrieval proxy continues the proxy. The start is exactly the stored weights, and it can only be set before step 1.
using Compression.Training;
using static TorchSharp.torch;

namespace Compression.Tests.Training;

public class TrainerStageTests
{
    private static readonly int[] Train = TrainerTestData.Repetitive(3000, period: 37);
    private static readonly int[] Valid = TrainerTestData.Repetitive(400, period: 37);

    [Fact]
    public void A_stage_starts_from_the_stored_weights_not_its_own_seed()
    {
        using var dir = new TempDirectory();
        using (var stage1 = new Trainer(TrainerTestData.TinyOptions(6), Train, Valid, dir.Sub("stage1")))
            stage1.Train();

        // Another seed and schedule, as a second stage has: its random start differs from stage 1's weights...
        var options = TrainerTestData.TinyOptions(4) with { Seed = 99, SequenceLength = 32, PeakLearningRate = 3e-3 };
        using var stage2 = new Trainer(options, Train, Valid);
        using var stored = new Trainer(TrainerTestData.TinyOptions(6), Train, Valid);
        stored.InitialiseWeightsFrom(dir.Sub("stage1"));
        Assert.Contains(stage2.NamedWeights.Zip(stored.NamedWeights), p => !p.First.Tensor.eq(p.Second.Tensor).all().item<bool>());

        // ...until it is initialised from them: then every weight is the stored one, bit for bit.
        stage2.InitialiseWeightsFrom(dir.Sub("stage1"));
        foreach (var ((name, a), (_, b)) in stage2.NamedWeights.Zip(stored.NamedWeights))
            Assert.True(a.eq(b).all().item<bool>(), name);
        // The stage-1 model's level on the new windows is where the new curve starts (lower than a random start's).
        using var random = new Trainer(options, Train, Valid);
        Assert.True(stage2.ValidationLoss() < random.ValidationLoss() - 0.5, $"{stage2.ValidationLoss()} vs random {random.ValidationLoss()}");

        stage2.TrainStep();
        var e = Assert.Throws<InvalidOperationException>(() => stage2.InitialiseWeightsFrom(dir.Sub("stage1")));
        Assert.Contains("before the first step", e.Message);
    }

    [Fact]
    public void A_stage_from_a_model_of_another_shape_is_refused_naming_the_file()
    {
        using var dir = new TempDirectory();
        using (var other = new Trainer(TrainerTestData.TinyOptions(2) with { Config = TrainerTestData.TinyConfig with { HiddenSize = 16 } }, Train, Valid, dir.Sub("other")))
            other.Train();
        using var trainer = new Trainer(TrainerTestData.TinyOptions(4), Train, Valid);
        var e = Assert.Throws<InvalidDataException>(() => trainer.InitialiseWeightsFrom(dir.Sub("other")));
        Assert.Contains("model.safetensors", e.Message);
    }
}
