// ITrainingObjective: what a training step minimises and what validation measures — next-token cross-entropy by
// default; quantization-aware distillation (Qat/DistillationObjective) adds a teacher's KL divergence.
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Training;

/// <summary>The loss of one training batch and the parts the history records (scalar tensors; <see cref="Kl"/> may be null).</summary>
public sealed record ObjectiveValue(Tensor Loss, Tensor CrossEntropy, Tensor? Kl);

/// <summary>Token sums over validation windows: cross-entropy, and KL divergence from a reference model when the objective has one.</summary>
public readonly record struct ValidationSums(double CrossEntropy, double? Kl, long Tokens);

/// <summary>
/// The training objective of a <see cref="Trainer"/>. Both methods run inside the trainer's dispose scope;
/// <see cref="Validate"/> runs under no_grad.
/// </summary>
public interface ITrainingObjective
{
    /// <summary>The loss of one batch (mean over tokens) to back-propagate, with its parts.</summary>
    /// <param name="inputs">(B, T) int64 token ids.</param>
    /// <param name="targets">(B, T) int64 next tokens.</param>
    ObjectiveValue Loss(LlamaModel model, Tensor inputs, Tensor targets);

    /// <summary>Sums over the tokens of one validation batch.</summary>
    ValidationSums Validate(LlamaModel model, Tensor inputs, Tensor targets);
}

/// <summary>Plain language-model training: mean next-token cross-entropy.</summary>
public sealed class NextTokenObjective : ITrainingObjective
{
    public static readonly NextTokenObjective Instance = new();

    public ObjectiveValue Loss(LlamaModel model, Tensor inputs, Tensor targets)
    {
        var ce = CrossEntropy(model.Forward(inputs, null), targets, nn.Reduction.Mean);
        return new ObjectiveValue(ce, ce, null);
    }

    public ValidationSums Validate(LlamaModel model, Tensor inputs, Tensor targets) =>
        new(CrossEntropy(model.Forward(inputs, null), targets, nn.Reduction.Sum).item<float>(), null, targets.numel());

    /// <summary>Next-token cross-entropy of logits (B, T, V) against targets (B, T).</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, nn.Reduction reduction) =>
        nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), targets.view(-1), reduction: reduction);
}
