// EvaluationProgress: what a running task reports to a progress display.
namespace Compression.Evaluation;

/// <summary><paramref name="Done"/> of <paramref name="Total"/> units (e.g. "tokens", "documents") finished.</summary>
public readonly record struct EvaluationProgress(long Done, long Total, string Unit);
