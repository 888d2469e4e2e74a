// PiqaLayout: ybisk/piqa rows in lm-evaluation-harness's prompt.
using System.Text.Json;

namespace Compression.Evaluation.Tasks.MultipleChoice.Layouts;

/// <summary>Fields goal, sol1, sol2, label (0/1). Context "Question: {goal}\nAnswer:", continuations " {sol1}", " {sol2}".</summary>
public sealed class PiqaLayout : IMultipleChoiceLayout
{
    public string Name => "piqa";
    public string Version => "1";

    public bool Matches(JsonElement line) => JsonFields.Has(line, "goal") && JsonFields.Has(line, "sol1");

    public MultipleChoiceDocument Parse(JsonElement line, string fallbackId) =>
        MultipleChoiceDocument.Shared(JsonFields.Id(line, fallbackId),
            $"Question: {JsonFields.String(line, "goal")}\nAnswer:",
            [JsonFields.String(line, "sol1"), JsonFields.String(line, "sol2")], " ", JsonFields.Int(line, "label"));
}
