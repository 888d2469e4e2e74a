// MultipleChoiceResult: per-item log-likelihoods and picks, and acc / acc_norm with Wilson intervals.
using Compression.Evaluation.Metrics;

namespace Compression.Evaluation.Tasks.MultipleChoice;

/// <summary>The context and continuation strings scored for one choice.</summary>
public sealed record ChoicePrompt(string Context, string Continuation);

/// <summary>One document's outcome: summed log-likelihood and length (UTF-8 bytes of the choice text) per choice, and both picks.</summary>
public sealed record ItemScore(string Id, int Gold, IReadOnlyList<double> LogLikelihoods, IReadOnlyList<int> ChoiceBytes, int Predicted, int PredictedNorm)
{
    public bool Correct => Predicted == Gold;
    public bool CorrectNorm => PredictedNorm == Gold;
}

/// <summary>
/// Accuracy of one task file. <see cref="Version"/> is "{scoring version}.{layout prompt version}".
/// </summary>
public sealed record MultipleChoiceResult(
    string Task,
    string Version,
    string Source,
    MultipleChoiceOptions Options,
    Proportion Acc,
    Proportion AccNorm,
    IReadOnlyList<ItemScore> Items)
{
    /// <summary>
    /// Paired difference in acc (this − <paramref name="other"/>) over the same items, matched by id: the mean
    /// of per-item correctness differences with its interval.
    /// </summary>
    public MeanEstimate AccDifference(MultipleChoiceResult other, bool normalised = false)
    {
        var theirs = other.Items.ToDictionary(i => i.Id);
        if (theirs.Count != Items.Count) throw new ArgumentException($"Results cover different items ({Items.Count} vs {theirs.Count}).");
        var a = new double[Items.Count];
        var b = new double[Items.Count];
        for (int i = 0; i < Items.Count; i++)
        {
            if (!theirs.TryGetValue(Items[i].Id, out var match)) throw new ArgumentException($"Item '{Items[i].Id}' is missing from the other result.");
            a[i] = (normalised ? Items[i].CorrectNorm : Items[i].Correct) ? 1 : 0;
            b[i] = (normalised ? match.CorrectNorm : match.Correct) ? 1 : 0;
        }
        return MeanEstimate.PairedDifference(a, b);
    }
}
