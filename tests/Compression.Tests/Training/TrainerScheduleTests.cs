// LearningRateSchedule and gradient clipping: known values of warm-up and cosine; the clipped norm is bounded.
using Compression.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Tests.Training;

public class TrainerScheduleTests
{
    [Theory]
    [InlineData(0, 1e-4)]       // first warm-up step: peak/10
    [InlineData(4, 5e-4)]
    [InlineData(9, 1e-3)]       // warm-up ends at the peak
    [InlineData(10, 1e-3)]      // the cosine starts at the peak
    [InlineData(60, 5.5e-4)]    // half way through steps 10..110: (peak + min)/2
    [InlineData(110, 1e-4)]     // last step: the minimum
    public void Warmup_is_linear_and_the_cosine_ends_at_the_minimum(int step, double expected) =>
        Assert.Equal(expected, LearningRateSchedule.At(step, totalSteps: 111, warmupSteps: 10, peak: 1e-3, minRatio: 0.1), 12);

    [Fact]
    public void Cosine_decays_monotonically_after_warmup()
    {
        var lrs = Enumerable.Range(10, 100).Select(s => LearningRateSchedule.At(s, 110, 10, 1e-3, 0.1)).ToArray();
        for (int i = 1; i < lrs.Length; i++) Assert.True(lrs[i] <= lrs[i - 1]);
        // 111 steps, 10 warm-up: the cosine spans steps 10..110 (100 intervals), so step 35 is a quarter of the way.
        Assert.Equal(1e-4 + 9e-4 * (1 + Math.Cos(Math.PI / 4)) / 2, LearningRateSchedule.At(35, 111, 10, 1e-3, 0.1), 12);
    }

    [Fact]
    public void Steps_use_the_scheduled_learning_rate()
    {
        var data = TrainerTestData.Repetitive(500);
        var options = TrainerTestData.TinyOptions(6);
        using var trainer = new Trainer(options, data, data);
        trainer.Train();
        Assert.Equal(Enumerable.Range(0, 6).Select(s => LearningRateSchedule.At(s, options)), trainer.History.Select(h => h.LearningRate));
    }

    [Fact]
    public void Clipping_bounds_the_gradient_norm()
    {
        var data = TrainerTestData.Repetitive(500);
        using var trainer = new Trainer(TrainerTestData.TinyOptions() with { GradClipNorm = 1e-3 }, data, data);
        var record = trainer.TrainStep();
        Assert.True(record.GradNorm > 1e-2, $"pre-clip norm {record.GradNorm} should exceed the bound for the test to mean anything");
        // The step leaves the clipped gradients in place until the next step zeroes them.
        Assert.Equal(1e-3, GradientNorm(trainer), 1e-3 * 1e-3);
    }

    [Fact]
    public void Without_clipping_the_reported_norm_is_the_gradient_norm()
    {
        var data = TrainerTestData.Repetitive(500);
        using var trainer = new Trainer(TrainerTestData.TinyOptions() with { GradClipNorm = 0 }, data, data);
        var record = trainer.TrainStep();
        Assert.Equal(record.GradNorm, GradientNorm(trainer), record.GradNorm * 1e-5);
    }

    private static double GradientNorm(Trainer trainer)
    {
        double sumSquares = 0;
        foreach (var (_, p) in trainer.NamedWeights)
        {
            using var scope = NewDisposeScope();
            if (p.grad is { } grad) sumSquares += grad.pow(2).sum().item<float>();
        }
        return Math.Sqrt(sumSquares);
    }
}
