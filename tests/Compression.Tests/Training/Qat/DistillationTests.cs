// Distillation and QAT training: the KL term against a hand computation, a few QAT steps lower the distillation loss,
// a resumed QAT run continues the same curve, and the untrained student is exactly the post-training quantization.
using Compression.Model;
using Compression.Quantization;
using Compression.Tests.Training;
using Compression.Training;
using Compression.Training.Qat;
using static TorchSharp.torch;

namespace Compression.Tests.Training.Qat;

public class DistillationTests
{
    /// <summary>One block wide enough for Q1_0's 128-weight blocks on every matrix (rows of 128 and 256).</summary>
    private static LlamaConfig Q1Config => TrainerTestData.TinyConfig with
    {
        HiddenSize = 128, IntermediateSize = 256, NumLayers = 1, NumHeads = 4, NumKeyValueHeadsRaw = 2, HeadDimRaw = 32, VocabSize = 64,
    };

    private static readonly int[] Train = TrainerTestData.Repetitive(4000, period: 41, vocab: 64);
    private static readonly int[] Valid = TrainerTestData.Repetitive(600, period: 41, vocab: 64);

    private static TrainingOptions Options(int steps, double lr) => QatTestData.Options(Q1Config, steps, lr);

    private static Trainer TrainedTeacher() => QatTestData.TrainedTeacher(Q1Config, Train, Valid);

    [Fact]
    public void Kl_term_matches_a_float64_hand_computation()
    {
        var g = new Generator(1);
        using var teacher = normal(0, 2, [2, 3, 7], generator: g);
        using var student = normal(0, 2, [2, 3, 7], generator: g);
        foreach (double tau in new[] { 1.0, 2.5 })
        {
            double expected = 0;
            var t = teacher.to(ScalarType.Float64).view(-1, 7).data<double>().ToArray();
            var s = student.to(ScalarType.Float64).view(-1, 7).data<double>().ToArray();
            for (int row = 0; row < 6; row++)
            {
                double[] Lsm(double[] z)
                {
                    var x = z.Skip(row * 7).Take(7).Select(v => v / tau).ToArray();
                    double m = x.Max(), lse = m + Math.Log(x.Sum(v => Math.Exp(v - m)));
                    return x.Select(v => v - lse).ToArray();
                }
                var lt = Lsm(t);
                var ls = Lsm(s);
                for (int v = 0; v < 7; v++) expected += Math.Exp(lt[v]) * (lt[v] - ls[v]);
            }
            expected /= 6;
            Assert.Equal(expected, DistillationObjective.MeanKl(teacher, student, tau).item<float>(), 5);
        }
        Assert.Equal(0f, DistillationObjective.MeanKl(teacher, teacher.clone(), 1).item<float>(), 6);
    }

    [Fact]
    public void Untrained_student_is_the_post_training_quantization()
    {
        using var teacher = TrainedTeacher();
        var policy = QuantizationPolicy.PureOf(FormatRegistry.Get("q1_0"));
        using var student = QatModel.Create(teacher.Model, policy);
        using var ptq = ModelQuantizer.Apply(teacher.Model, policy);
        Assert.All(ptq.LinearLayers(), l => Assert.Equal("q1_0", l.Layer.FormatName));
        int[] tokens = Valid[..24];
        var a = student.Logits(tokens);
        var b = ptq.Logits(tokens);
        double max = 0;
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++) max = Math.Max(max, Math.Abs(a[i, j] - b[i, j]));
        Assert.True(max < 1e-4, $"fake-quant student vs packed q1_0 model: max |Δlogit| {max:E2}");
        Assert.Equal(ptq.WeightBytes, student.WeightBytes); // the student counts its weights at the format's size
    }

    [Fact]
    public void A_few_qat_steps_lower_the_distillation_loss_and_the_kl()
    {
        using var teacher = TrainedTeacher();
        var objective = new DistillationObjective(teacher.Model, alpha: 0.9, temperature: 2.0);
        var policy = QuantizationPolicy.PureOf(FormatRegistry.Get("q1_0"));
        var teacherBefore = teacher.Model.parameters().Select(p => p.detach().clone()).ToList();
        using var qat = new Trainer(Options(16, 3e-3), QatModel.Create(teacher.Model, policy), objective, Train, Valid);
        var (lossBefore, klBefore) = qat.ValidationMeans();
        qat.Train();
        var (lossAfter, klAfter) = qat.ValidationMeans();
        Assert.True(klAfter < 0.7 * klBefore!.Value, $"validation KL {klBefore:F4} → {klAfter:F4}");
        Assert.True(lossAfter < lossBefore, $"validation loss {lossBefore:F4} → {lossAfter:F4}");
        var history = qat.History;
        Assert.All(history, h => Assert.NotNull(h.Kl));
        Assert.True(history.TakeLast(4).Average(h => h.Loss) < history.Take(4).Average(h => h.Loss), "training loss did not fall");
        // The teacher is inference only: its weights are untouched (the student is a copy, trained on its own parameters).
        foreach (var (before, now) in teacherBefore.Zip(teacher.Model.parameters())) Assert.True(before.allclose(now.detach(), rtol: 0, atol: 0));
    }

    [Fact]
    public void A_resumed_qat_run_continues_the_same_curve()
    {
        using var teacher = TrainedTeacher();
        using var dir = new TempDirectory();
        var objective = new DistillationObjective(teacher.Model, alpha: 0.5, temperature: 1.0);
        var policy = QuantizationPolicy.PureOf(FormatRegistry.Get("q1_0"));
        var options = Options(8, 3e-3) with { EvalInterval = 4 };
        Trainer Create(TrainingOptions o, string? checkpoint) => new(o, QatModel.Create(teacher.Model, policy), objective, Train, Valid, checkpoint);

        using var straight = Create(options, null);
        straight.Train();
        using (var first = Create(options, dir.Sub("run")))
            Assert.Equal(4, first.Train(stopAtStep: 4).Step);
        using var resumed = Trainer.Resume(dir.Sub("run"), state => Create(state.Options, dir.Sub("run")));
        Assert.Equal(4, resumed.Step);
        resumed.Train();

        Assert.Equal(8, resumed.History.Count);
        foreach (var (a, b) in straight.History.Zip(resumed.History))
        {
            Assert.Equal(a.Loss, b.Loss, 1e-5);
            Assert.Equal(a.Kl!.Value, b.Kl!.Value, 1e-5);
        }
        Assert.Equal(straight.Evaluations.Select(e => e.Step), resumed.Evaluations.Select(e => e.Step));
        Assert.Equal(straight.Evaluations[^1].Kl!.Value, resumed.Evaluations[^1].Kl!.Value, 1e-5);
    }

    [Fact]
    public void Objective_settings_are_checked()
    {
        Assert.Throws<ArgumentException>(() => new DistillationObjective(null, 0.5, 1));
        using var teacher = LlamaModel.CreateRandom(Q1Config, 1);
        Assert.Throws<ArgumentException>(() => new DistillationObjective(teacher, 1.5, 1));
        Assert.Throws<ArgumentException>(() => new DistillationObjective(teacher, 0.5, 0));
    }
}
