// BoolQLayout: google/boolq (answer: bool) or super_glue boolq (label: 0/1) rows in lm-evaluation-harness's prompt.
using System.Text.Json;

namespace Compression.Evaluation.Tasks.MultipleChoice.Layouts;

/// <summary>Fields passage, question, answer (bool) or label (0 = no, 1 = yes). Context "{passage}\nQuestion: {question}?\nAnswer:", continuations " no", " yes".</summary>
public sealed class BoolQLayout : IMultipleChoiceLayout
{
    public string Name => "boolq";
    public string Version => "1";

    public bool Matches(JsonElement line) => JsonFields.Has(line, "passage") && JsonFields.Has(line, "question");

    public MultipleChoiceDocument Parse(JsonElement line, string fallbackId)
    {
        bool yes = JsonFields.Has(line, "answer") || !JsonFields.Has(line, "label")
            ? JsonFields.Bool(line, "answer")
            : JsonFields.Bool(line, "label");
        string context = $"{JsonFields.String(line, "passage")}\nQuestion: {JsonFields.String(line, "question")}?\nAnswer:";
        return MultipleChoiceDocument.Shared(JsonFields.Id(line, fallbackId), context, ["no", "yes"], " ", yes ? 1 : 0);
    }
}
