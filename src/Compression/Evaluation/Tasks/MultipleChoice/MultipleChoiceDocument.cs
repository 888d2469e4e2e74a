// MultipleChoiceDocument: one question in layout-independent form — per-choice contexts, choice texts, the gold index.
namespace Compression.Evaluation.Tasks.MultipleChoice;

/// <summary>
/// A parsed multiple-choice item. Choice j is scored as ln P(<see cref="Delimiter"/> + Choices[j] | Contexts[j]);
/// most layouts repeat one context for every choice, WinoGrande's partial scoring varies the context and keeps
/// the continuation. <see cref="Description"/> goes before any few-shot examples (MMLU's subject line).
/// <see cref="Group"/> (MMLU's subject) is where few-shot examples are preferably drawn from.
/// </summary>
public sealed record MultipleChoiceDocument(
    string Id,
    IReadOnlyList<string> Contexts,
    IReadOnlyList<string> Choices,
    string Delimiter,
    int Gold,
    string Description = "",
    string? Group = null)
{
    /// <summary>A document whose choices all share <paramref name="context"/>.</summary>
    public static MultipleChoiceDocument Shared(string id, string context, IReadOnlyList<string> choices, string delimiter, int gold, string description = "", string? group = null) =>
        new(id, Enumerable.Repeat(context, choices.Count).ToArray(), choices, delimiter, gold, description, group);

    /// <summary>The continuation text scored for choice <paramref name="j"/>.</summary>
    public string Continuation(int j) => Delimiter + Choices[j];

    /// <summary>The solved item as a few-shot example: gold context followed by the gold continuation.</summary>
    public string Example => Contexts[Gold] + Continuation(Gold);

    /// <summary>Throws <see cref="InvalidDataException"/> when the item cannot be scored.</summary>
    public void Validate()
    {
        if (Choices.Count < 2) throw new InvalidDataException($"needs at least 2 choices, has {Choices.Count}");
        if (Contexts.Count != Choices.Count) throw new InvalidDataException($"{Contexts.Count} contexts for {Choices.Count} choices");
        if (Gold < 0 || Gold >= Choices.Count) throw new InvalidDataException($"answer index {Gold} is outside the {Choices.Count} choices");
        for (int j = 0; j < Choices.Count; j++)
            if (Choices[j].Length == 0) throw new InvalidDataException($"choice {j} is empty");
    }
}
