// MultipleChoiceOptions: few-shot count, seed, subset and tokenization settings of a multiple-choice run.
namespace Compression.Evaluation.Tasks.MultipleChoice;

/// <summary>Settings of a multiple-choice evaluation; recorded in its result.</summary>
public sealed record MultipleChoiceOptions
{
    /// <summary>Solved examples put before each question, joined with "\n\n" (0 = zero-shot).</summary>
    public int FewShot { get; init; }

    /// <summary>Seed of the few-shot draw (see <see cref="FewShotSampler"/>).</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Evaluate only the first this many documents; null = all.</summary>
    public int? Limit { get; init; }

    /// <summary>Prepend BOS to each context (Llama 3 expects it; lm-eval's HF backend adds none by default).</summary>
    public bool AddBos { get; init; } = true;

    /// <summary>Documents whose requests go to the model in one <see cref="ILanguageModel.LogLikelihood"/> call.</summary>
    public int BatchDocuments { get; init; } = 16;
}
