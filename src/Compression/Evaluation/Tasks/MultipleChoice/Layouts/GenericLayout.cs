// GenericLayout: the workbench's own "mc" layout — context and continuations exactly as written in the file.
using System.Text.Json;

namespace Compression.Evaluation.Tasks.MultipleChoice.Layouts;

/// <summary>
/// Fields id (optional), context, choices[], answer (0-based). Nothing is added: choice j is scored as the
/// continuation choices[j] after context (put any separating space in the choices). Used by the synthetic suite.
/// </summary>
public sealed class GenericLayout : IMultipleChoiceLayout
{
    public string Name => "mc";
    public string Version => "1";

    public bool Matches(JsonElement line) => JsonFields.Has(line, "context") && JsonFields.Has(line, "choices");

    public MultipleChoiceDocument Parse(JsonElement line, string fallbackId) =>
        MultipleChoiceDocument.Shared(JsonFields.Id(line, fallbackId), JsonFields.String(line, "context"),
            JsonFields.Strings(line, "choices"), "", JsonFields.Int(line, "answer"));
}
