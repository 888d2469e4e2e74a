// HellaSwagLayout: Rowan/hellaswag rows with lm-evaluation-harness's preprocessing and prompt.
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Compression.Evaluation.Tasks.MultipleChoice.Layouts;

/// <summary>
/// Fields ctx_a, ctx_b, activity_label, endings[4], label ("0".."3" or int). Context =
/// preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b)), choice j = preprocess(endings[j]),
/// continuation " " + choice — as lm-eval's hellaswag task (v1), where preprocess strips, turns " [title]" into ". ",
/// removes bracketed tags and collapses double spaces, and capitalize is Python's str.capitalize.
/// </summary>
public sealed partial class HellaSwagLayout : IMultipleChoiceLayout
{
    public string Name => "hellaswag";
    public string Version => "1";

    public bool Matches(JsonElement line) => JsonFields.Has(line, "ctx_a") && JsonFields.Has(line, "endings");

    public MultipleChoiceDocument Parse(JsonElement line, string fallbackId)
    {
        string ctx = JsonFields.String(line, "ctx_a") + " " + Capitalize(JsonFields.String(line, "ctx_b"));
        string query = Preprocess(JsonFields.String(line, "activity_label") + ": " + ctx);
        var choices = JsonFields.Strings(line, "endings").Select(Preprocess).ToArray();
        return MultipleChoiceDocument.Shared(JsonFields.Id(line, fallbackId), query, choices, " ", JsonFields.Int(line, "label"));
    }

    /// <summary>lm-eval's hellaswag <c>preprocess</c>.</summary>
    public static string Preprocess(string text)
    {
        text = text.Trim().Replace(" [title]", ". ");
        text = BracketTag().Replace(text, "");
        return text.Replace("  ", " ");
    }

    /// <summary>Python's str.capitalize: first character upper case, the rest lower case.</summary>
    public static string Capitalize(string text) =>
        text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..].ToLowerInvariant();

    [GeneratedRegex(@"\[.*?\]")]
    private static partial Regex BracketTag();
}
