// TrainingProgress and TrainingResult: what the trainer reports after each step and at the end of a run.
namespace Compression.Training;

/// <summary>Reported after every optimizer step.</summary>
/// <param name="Step">Steps completed (1-based: 1 after the first step).</param>
/// <param name="Loss">Training cross-entropy of this step's batch (nats/token).</param>
/// <param name="LearningRate">Learning rate used by this step.</param>
/// <param name="GradNorm">Global gradient L2 norm before clipping.</param>
/// <param name="TokensPerSecond">Training throughput of this step (forward, backward, update).</param>
/// <param name="ValidationLoss">Mean validation cross-entropy when this step evaluated, else null.</param>
/// <param name="Elapsed">Wall time of the run so far, across resumes.</param>
/// <param name="Kl">KL divergence from the teacher on this step's batch (distillation runs), else null.</param>
/// <param name="ValidationKl">Mean validation KL divergence from the teacher when this step evaluated one, else null.</param>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double LearningRate, double GradNorm,
    double TokensPerSecond, double? ValidationLoss, TimeSpan Elapsed, double? Kl = null, double? ValidationKl = null)
{
    /// <summary>exp(validation loss) when this step evaluated.</summary>
    public double? ValidationPerplexity => ValidationLoss is { } v ? Math.Exp(v) : null;
}

/// <summary>The outcome of <see cref="Trainer.Train"/>.</summary>
/// <param name="Step">Steps completed in total (across resumes).</param>
/// <param name="Cancelled">True when the run stopped early on the cancellation token.</param>
/// <param name="LastLoss">Training loss of the last step.</param>
/// <param name="ValidationLoss">Latest validation loss, or null when never evaluated.</param>
/// <param name="TokensPerSecond">Mean training throughput of this call's steps.</param>
/// <param name="CheckpointDirectory">Where the last checkpoint was written, or null.</param>
public sealed record TrainingResult(int Step, bool Cancelled, double LastLoss, double? ValidationLoss,
    double TokensPerSecond, TimeSpan Elapsed, string? CheckpointDirectory)
{
    public double? ValidationPerplexity => ValidationLoss is { } v ? Math.Exp(v) : null;
}
