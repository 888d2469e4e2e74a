// MmluLayout: cais/mmlu rows in lm-evaluation-harness's default letter-answer prompt.
using System.Text.Json;

namespace Compression.Evaluation.Tasks.MultipleChoice.Layouts;

/// <summary>
/// Fields question, choices[], answer (0-based int, or a letter "A".."D"), subject (optional). Description
/// "The following are multiple choice questions (with answers) about {subject, '_' → ' '}.\n\n" before any
/// few-shot examples; context "{question.strip()}\nA. {c0}\nB. {c1}\nC. {c2}\nD. {c3}\nAnswer:"; continuations
/// " A" .. " D". Few-shot examples come from the same subject when the file has enough of them.
/// </summary>
public sealed class MmluLayout : IMultipleChoiceLayout
{
    public string Name => "mmlu";
    public string Version => "1";

    public bool Matches(JsonElement line) =>
        JsonFields.Has(line, "question") && JsonFields.Has(line, "answer") && !JsonFields.Has(line, "context") &&
        line.TryGetProperty("choices", out var c) && c.ValueKind == JsonValueKind.Array;

    public MultipleChoiceDocument Parse(JsonElement line, string fallbackId)
    {
        var choices = JsonFields.Strings(line, "choices");
        if (choices.Count is < 2 or > 26) throw new InvalidDataException($"field 'choices' must have 2 to 26 entries, has {choices.Count}");
        var letters = Enumerable.Range(0, choices.Count).Select(i => ((char)('A' + i)).ToString()).ToArray();
        int gold = Answer(line, letters);
        string? subject = line.TryGetProperty("subject", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        string about = string.IsNullOrWhiteSpace(subject) ? "" : " about " + subject.Replace('_', ' ');
        string description = $"The following are multiple choice questions (with answers){about}.\n\n";
        var context = new System.Text.StringBuilder(JsonFields.String(line, "question").Trim());
        for (int i = 0; i < choices.Count; i++) context.Append('\n').Append(letters[i]).Append(". ").Append(choices[i]);
        context.Append("\nAnswer:");
        return MultipleChoiceDocument.Shared(JsonFields.Id(line, fallbackId), context.ToString(), letters, " ", gold, description, subject);
    }

    private static int Answer(JsonElement line, string[] letters)
    {
        var value = JsonFields.Require(line, "answer");
        if (value.ValueKind == JsonValueKind.String)
        {
            string text = value.GetString()!.Trim();
            int letter = Array.IndexOf(letters, text.ToUpperInvariant());
            if (letter >= 0) return letter;
        }
        return JsonFields.Int(line, "answer");
    }
}
