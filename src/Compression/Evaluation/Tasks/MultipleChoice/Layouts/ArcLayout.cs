// ArcLayout: allenai/ai2_arc rows (ARC-Easy and ARC-Challenge) in lm-evaluation-harness's prompt.
using System.Text.Json;

namespace Compression.Evaluation.Tasks.MultipleChoice.Layouts;

/// <summary>
/// Fields question, choices {text[], label[]}, answerKey. Context "Question: {question}\nAnswer:", continuation
/// " " + choices.text[j]; gold = the position of answerKey in choices.label (labels are "A".."E" or "1".."5").
/// A numeric answerKey with letter labels is read as a 1-based index.
/// </summary>
public sealed class ArcLayout : IMultipleChoiceLayout
{
    public string Name => "arc";
    public string Version => "1";

    public bool Matches(JsonElement line) => JsonFields.Has(line, "answerKey") && JsonFields.Has(line, "choices");

    public MultipleChoiceDocument Parse(JsonElement line, string fallbackId)
    {
        var choices = JsonFields.Require(line, "choices");
        if (choices.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"field 'choices' must be an object with 'text' and 'label', got {choices.ValueKind}");
        var texts = JsonFields.Strings(choices, "text");
        var labels = JsonFields.Strings(choices, "label");
        if (texts.Count != labels.Count) throw new InvalidDataException($"choices.text has {texts.Count} entries but choices.label has {labels.Count}");
        string key = JsonFields.String(line, "answerKey").Trim();
        int gold = labels.ToList().IndexOf(key);
        if (gold < 0 && int.TryParse(key, out int n) && n >= 1 && n <= labels.Count && !labels.Any(l => int.TryParse(l, out _))) gold = n - 1;
        if (gold < 0) throw new InvalidDataException($"answerKey '{key}' is not among choices.label [{string.Join(", ", labels)}]");
        string context = $"Question: {JsonFields.String(line, "question")}\nAnswer:";
        return MultipleChoiceDocument.Shared(JsonFields.Id(line, fallbackId), context, texts, " ", gold);
    }
}
