// LearningRateSchedule: linear warm-up to the peak, then cosine decay to the minimum.
namespace Compression.Training;

/// <summary>The learning rate as a pure function of the step, so a resumed run needs no scheduler state.</summary>
public static class LearningRateSchedule
{
    /// <summary>
    /// Learning rate for optimizer step <paramref name="step"/> (0-based). Steps 0..warmup-1 rise linearly
    /// to the peak (step w-1 reaches it, so the first step is not wasted at lr 0); from the warm-up's end to
    /// the last step (<c>total-1</c>) the rate follows a half cosine from the peak down to <c>peak·minRatio</c>.
    /// </summary>
    public static double At(int step, TrainingOptions o) =>
        At(step, o.TotalSteps, o.WarmupSteps, o.PeakLearningRate, o.MinLearningRateRatio);

    /// <inheritdoc cref="At(int, TrainingOptions)"/>
    public static double At(int step, int totalSteps, int warmupSteps, double peak, double minRatio)
    {
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        double min = peak * minRatio;
        int decaySteps = totalSteps - 1 - warmupSteps;
        if (decaySteps <= 0) return peak;
        double progress = Math.Clamp((double)(step - warmupSteps) / decaySteps, 0, 1);
        return min + 0.5 * (peak - min) * (1 + Math.Cos(Math.PI * progress));
    }
}
