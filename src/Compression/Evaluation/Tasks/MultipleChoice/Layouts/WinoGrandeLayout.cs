// WinoGrandeLayout: allenai/winogrande rows with lm-evaluation-harness's partial scoring.
using System.Text.Json;

namespace Compression.Evaluation.Tasks.MultipleChoice.Layouts;

/// <summary>
/// Fields sentence (with one "_"), option1, option2, answer ("1"/"2"). Partial scoring: context j = the sentence
/// up to "_" with option j in its place; the continuation, the same for both options, is " " + the rest of the
/// sentence after "_" (trimmed). Because the continuations are identical, acc_norm equals acc here.
/// </summary>
public sealed class WinoGrandeLayout : IMultipleChoiceLayout
{
    public string Name => "winogrande";
    public string Version => "1";

    public bool Matches(JsonElement line) => JsonFields.Has(line, "sentence") && JsonFields.Has(line, "option1");

    public MultipleChoiceDocument Parse(JsonElement line, string fallbackId)
    {
        string sentence = JsonFields.String(line, "sentence");
        int blank = sentence.IndexOf('_');
        if (blank < 0) throw new InvalidDataException("field 'sentence' has no '_' blank");
        string rest = sentence[(blank + 1)..].Trim();
        if (rest.Length == 0) throw new InvalidDataException("field 'sentence' has nothing after the '_' blank to score");
        int answer = JsonFields.Int(line, "answer");
        if (answer is not (1 or 2)) throw new InvalidDataException($"field 'answer' must be 1 or 2, got {answer}");
        string prefix = sentence[..blank];
        string[] contexts = [prefix + JsonFields.String(line, "option1"), prefix + JsonFields.String(line, "option2")];
        return new MultipleChoiceDocument(JsonFields.Id(line, fallbackId), contexts, [rest, rest], " ", answer - 1);
    }
}
