// DistillationObjective: α·τ²·KL(teacher‖student) at temperature τ + (1−α)·cross-entropy (+ β·per-layer hidden-state
// matching), the teacher run once per batch under no_grad. α = β = 0 is plain QAT; the teacher then only measures validation KL.
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Training.Qat;

/// <summary>
/// Knowledge distillation from a frozen teacher that shares the student's tokenizer and vocabulary. The KL term is
/// Hinton's: both distributions softened by τ, scaled by τ² so its gradient keeps its size as τ changes. Validation
/// always reports the plain KL at τ = 1 — the quantity the evaluation harness's KL cells measure against the baseline.
/// With β &gt; 0 the loss adds β · mean over layers ℓ of MSE(h_s^ℓ, h_t^ℓ) / mean((h_t^ℓ)²): each decoder layer's output
/// (the residual stream) against the teacher's, normalised by the teacher's mean square at that layer so every layer
/// weighs alike however its scale grows with depth. The teacher is not owned: the caller loads it once and disposes it.
/// </summary>
public sealed class DistillationObjective : ITrainingObjective
{
    private readonly LlamaModel? _teacher;

    /// <param name="teacher">The frozen reference model, or null (no KL at all).</param>
    /// <param name="alpha">Weight of the KL term in [0, 1]; 0 trains on cross-entropy alone.</param>
    /// <param name="temperature">τ &gt; 0 of the training KL.</param>
    /// <param name="hiddenWeight">β ≥ 0 of the per-layer hidden-state term (0: none, the loss is exactly α·τ²·KL + (1−α)·CE).</param>
    public DistillationObjective(LlamaModel? teacher, double alpha, double temperature, double hiddenWeight = 0)
    {
        if (!(hiddenWeight >= 0) || double.IsInfinity(hiddenWeight)) throw new ArgumentException($"distillation: the hidden-state weight must be non-negative (got {hiddenWeight})");
        if (hiddenWeight > 0 && teacher is null) throw new ArgumentException("distillation: hidden-state matching needs a teacher");
        if (alpha is < 0 or > 1 || double.IsNaN(alpha)) throw new ArgumentException($"distillation: alpha must be in [0, 1] (got {alpha})");
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new ArgumentException($"distillation: temperature must be positive (got {temperature})");
        if (alpha > 0 && teacher is null) throw new ArgumentException("distillation: alpha > 0 needs a teacher");
        _teacher = teacher;
        _teacher?.eval();
        Alpha = alpha;
        Temperature = temperature;
        HiddenWeight = hiddenWeight;
    }

    public double Alpha { get; }
    public double Temperature { get; }
    public double HiddenWeight { get; }

    public ObjectiveValue Loss(LlamaModel model, Tensor inputs, Tensor targets)
    {
        if (HiddenWeight > 0) return LossWithHidden(model, inputs, targets);
        var logits = model.Forward(inputs, null);                                    // (B, T, V)
        var ce = NextTokenObjective.CrossEntropy(logits, targets, nn.Reduction.Mean);
        if (Alpha == 0) return new ObjectiveValue(ce, ce, null);
        var teacherLogits = TeacherLogits(inputs);                                   // (B, T, V), no grad
        var kl = MeanKl(teacherLogits, logits, Temperature);
        var loss = kl.Times(Alpha * Temperature * Temperature).Plus(ce.Times(1 - Alpha));
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
        var logPt = teacherLogits.view(-1, v).to(ScalarType.Float64).Over(temperature).log_softmax(-1);
        var logPs = studentLogits.view(-1, v).to(ScalarType.Float64).Over(temperature).log_softmax(-1);
        var kl = logPt.exp().mul(logPt.sub(logPs)).sum(-1).mean();
        return kl.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    private ObjectiveValue LossWithHidden(LlamaModel model, Tensor inputs, Tensor targets)
    {
        var studentHidden = new List<Tensor>();
        var logits = model.ForwardWithLayers(inputs, studentHidden);                           // (B, T, V); L × (B, T, H)
        var ce = NextTokenObjective.CrossEntropy(logits, targets, nn.Reduction.Mean);
        var teacherHidden = new List<Tensor>();
        Tensor teacherLogits;
        using (no_grad()) teacherLogits = _teacher!.ForwardWithLayers(inputs, teacherHidden).detach();
        var kl = MeanKl(teacherLogits, logits, Temperature);
        var loss = kl.Times(Alpha * Temperature * Temperature).Plus(ce.Times(1 - Alpha))
            .Plus(HiddenMatch(studentHidden, teacherHidden).Times(HiddenWeight));
        return new ObjectiveValue(loss, ce, kl);
    }

    /// <summary>
    /// Mean over layers of MSE(student, teacher) / mean(teacher²), a float32 scalar: 0 exactly when the two agree at every
    /// layer. The teacher's states carry no gradient.
    /// </summary>
    /// <param name="student">Each layer's output (B, T, H).</param>
    /// <param name="teacher">The teacher's, same shapes.</param>
    public static Tensor HiddenMatch(IReadOnlyList<Tensor> student, IReadOnlyList<Tensor> teacher)
    {
        if (student.Count != teacher.Count || student.Count == 0)
            throw new ArgumentException($"hidden-state matching needs one state per layer from each model (student {student.Count}, teacher {teacher.Count})");
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        for (int l = 0; l < student.Count; l++)
        {
            var t = teacher[l].detach().to(ScalarType.Float32);
            var s = student[l].to(ScalarType.Float32);
            // ε keeps a layer whose teacher output is all zero (a degenerate test model) from dividing by zero.
            var term = s.sub(t).Squared().mean().div(t.Squared().mean().AtLeast(1e-12));
            sum = sum is null ? term : sum.Plus(term);
        }
        return sum!.Over(student.Count).MoveToOuterDisposeScope();
    }

    private Tensor TeacherLogits(Tensor inputs)
    {
        using var noGrad = no_grad();
        return _teacher!.Forward(inputs, null).detach();
    }
}
