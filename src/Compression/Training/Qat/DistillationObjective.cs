// DistillationObjective: α·τ²·KL(teacher‖student) at temperature τ + (1−α)·cross-entropy, the teacher run once per batch
// under no_grad. α = 0 is plain quantization-aware training; the teacher then only measures validation KL.
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Training.Qat;

/// <summary>
/// Knowledge distillation from a frozen teacher that shares the student's tokenizer and vocabulary. The KL term is
/// Hinton's: both distributions softened by τ, scaled by τ² so its gradient keeps its size as τ changes. Validation
/// always reports the plain KL at τ = 1 — the quantity the evaluation harness's KL cells measure against the baseline.
/// The teacher is not owned: the caller loads it once and disposes it.
/// </summary>
public sealed class DistillationObjective : ITrainingObjective
{
    private readonly LlamaModel? _teacher;

    /// <param name="teacher">The frozen reference model, or null (no KL at all).</param>
    /// <param name="alpha">Weight of the KL term in [0, 1]; 0 trains on cross-entropy alone.</param>
    /// <param name="temperature">τ &gt; 0 of the training KL.</param>
    public DistillationObjective(LlamaModel? teacher, double alpha, double temperature)
    {
        if (alpha is < 0 or > 1 || double.IsNaN(alpha)) throw new ArgumentException($"distillation: alpha must be in [0, 1] (got {alpha})");
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new ArgumentException($"distillation: temperature must be positive (got {temperature})");
        if (alpha > 0 && teacher is null) throw new ArgumentException("distillation: alpha > 0 needs a teacher");
        _teacher = teacher;
        _teacher?.eval();
        Alpha = alpha;
        Temperature = temperature;
    }

    public double Alpha { get; }
    public double Temperature { get; }

    public ObjectiveValue Loss(LlamaModel model, Tensor inputs, Tensor targets)
    {
        var logits = model.Forward(inputs, null);                                    // (B, T, V)
        var ce = NextTokenObjective.CrossEntropy(logits, targets, nn.Reduction.Mean);
        if (Alpha == 0) return new ObjectiveValue(ce, ce, null);
        var teacherLogits = TeacherLogits(inputs);                                   // (B, T, V), no grad
        var kl = MeanKl(teacherLogits, logits, Temperature);
        var loss = kl.mul(Alpha * Temperature * Temperature).add(ce.mul(1 - Alpha));
        return new ObjectiveValue(loss, ce, kl);
    }

    public ValidationSums Validate(LlamaModel model, Tensor inputs, Tensor targets)
    {
        var logits = model.Forward(inputs, null);
        double ce = NextTokenObjective.CrossEntropy(logits, targets, nn.Reduction.Sum).item<float>();
        double? kl = null;
        if (_teacher is not null)
            kl = MeanKl(TeacherLogits(inputs), logits, 1.0).item<float>() * targets.numel();
        return new ValidationSums(ce, kl, targets.numel());
    }

    /// <summary>
    /// Mean over positions of KL(softmax(t/τ) ‖ softmax(s/τ)) = Σ_v p_t (log p_t − log p_s), in nats. Computed in
    /// float64 so a near-zero KL (a student that already matches) is not lost to cancellation.
    /// </summary>
    public static Tensor MeanKl(Tensor teacherLogits, Tensor studentLogits, double temperature)
    {
        using var scope = NewDisposeScope();
        long v = studentLogits.shape[^1];
        var logPt = teacherLogits.view(-1, v).to(ScalarType.Float64).div(temperature).log_softmax(-1);
        var logPs = studentLogits.view(-1, v).to(ScalarType.Float64).div(temperature).log_softmax(-1);
        var kl = logPt.exp().mul(logPt.sub(logPs)).sum(-1).mean();
        return kl.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    private Tensor TeacherLogits(Tensor inputs)
    {
        using var noGrad = no_grad();
        return _teacher!.Forward(inputs, null).detach();
    }
}
