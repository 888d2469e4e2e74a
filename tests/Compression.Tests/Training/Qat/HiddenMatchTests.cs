// Per-layer hidden-state matching in distillation: β = 0 is exactly the α·τ²·KL + (1−α)·CE loss, the term is zero when the
// student is the teacher, and otherwise it is the normalised per-layer MSE a float64 hand computation gives.
using Compression.Model;
using Compression.Quantization;
using Compression.Tests.Training;
using Compression.Training;
using Compression.Training.Qat;
using static TorchSharp.torch;

namespace Compression.Tests.Training.Qat;

public class HiddenMatchTests
{
    private static LlamaConfig Config => TrainerTestData.TinyConfig with
    {
        HiddenSize = 128, IntermediateSize = 256, NumLayers = 2, NumHeads = 4, NumKeyValueHeadsRaw = 2, HeadDimRaw = 32, VocabSize = 64,
    };

    private static readonly int[] Train = TrainerTestData.Repetitive(3000, period: 41, vocab: 64);
    private static readonly int[] Valid = TrainerTestData.Repetitive(600, period: 41, vocab: 64);

    private static Trainer TrainedTeacher() => QatTestData.TrainedTeacher(Config, Train, Valid, steps: 20);

    private static (Tensor Inputs, Tensor Targets) Batch()
    {
        var ids = tensor(Train.Take(4 * 33).Select(i => (long)i).ToArray(), [4, 33]);
        return (ids[.., ..^1].contiguous(), ids[.., 1..].contiguous());
    }

    [Fact]
    public void Beta_zero_is_exactly_the_kl_and_cross_entropy_loss_and_the_term_vanishes_for_the_teacher_itself()
    {
        using var teacher = TrainedTeacher();
        using var student = QatModel.Create(teacher.Model, QuantizationPolicy.PureOf(FormatRegistry.Get("q1_0")));
        using var scope = NewDisposeScope();
        var (inputs, targets) = Batch();
        const double alpha = 0.8, tau = 2.0;

        // β = 0: the loss is the formula, computed here from the two models' logits.
        var value = new DistillationObjective(teacher.Model, alpha, tau, hiddenWeight: 0).Loss(student, inputs, targets);
        var logits = student.Forward(inputs, null);
        Tensor teacherLogits;
        using (no_grad()) teacherLogits = teacher.Model.Forward(inputs, null);
        var ce = NextTokenObjective.CrossEntropy(logits, targets, nn.Reduction.Mean);
        var expected = DistillationObjective.MeanKl(teacherLogits, logits, tau).mul(alpha * tau * tau).add(ce.mul(1 - alpha));
        Assert.Equal(expected.item<float>(), value.Loss.item<float>());

        // The teacher as its own student: every layer agrees, the term is exactly 0 and β changes nothing.
        var self0 = new DistillationObjective(teacher.Model, alpha, tau, hiddenWeight: 0).Loss(teacher.Model, inputs, targets).Loss.item<float>();
        var self1 = new DistillationObjective(teacher.Model, alpha, tau, hiddenWeight: 3).Loss(teacher.Model, inputs, targets).Loss.item<float>();
        Assert.Equal(self0, self1);
        var a = new List<Tensor>();
        var b = new List<Tensor>();
        using (no_grad()) { teacher.Model.ForwardWithLayers(inputs, a); teacher.Model.ForwardWithLayers(inputs, b); }
        Assert.Equal(2, a.Count);
        Assert.Equal(0f, DistillationObjective.HiddenMatch(a, b).item<float>());
    }

    [Fact]
    public void The_term_is_the_mean_over_layers_of_the_mse_over_the_teachers_mean_square()
    {
        using var teacher = TrainedTeacher();
        using var student = QatModel.Create(teacher.Model, QuantizationPolicy.PureOf(FormatRegistry.Get("q1_0")));
        using var scope = NewDisposeScope();
        var (inputs, targets) = Batch();
        var s = new List<Tensor>();
        var t = new List<Tensor>();
        using (no_grad()) { student.ForwardWithLayers(inputs, s); teacher.Model.ForwardWithLayers(inputs, t); }
        double hand = 0;
        for (int l = 0; l < s.Count; l++)
        {
            double[] sv = s[l].data<float>().ToArray().Select(v => (double)v).ToArray(), tv = t[l].data<float>().ToArray().Select(v => (double)v).ToArray();
            double mse = sv.Zip(tv, (x, y) => (x - y) * (x - y)).Average(), ms = tv.Average(y => y * y);
            hand += mse / ms / s.Count;
        }
        double term = DistillationObjective.HiddenMatch(s, t).item<float>();
        Assert.True(term > 1e-3, $"a 1-bit student's hidden states should differ from the teacher's (term {term:E2})");
        Assert.Equal(hand, term, hand * 1e-5);

        // In the loss: β times the term on top of the β = 0 loss.
        float l0 = new DistillationObjective(teacher.Model, 0.9, 1, 0).Loss(student, inputs, targets).Loss.item<float>();
        float l2 = new DistillationObjective(teacher.Model, 0.9, 1, 2).Loss(student, inputs, targets).Loss.item<float>();
        Assert.Equal(l0 + 2 * term, l2, 1e-4 * Math.Max(1, l2));
    }
}
