// Question: a benchmark item before its choices are placed — context, the true continuation and its distractors.
namespace Compression.Training.Suite;

/// <summary>A context with one correct continuation and wrong ones (all distinct, none equal to the answer).</summary>
internal sealed record Question(string Context, string Answer, IReadOnlyList<string> Distractors);
