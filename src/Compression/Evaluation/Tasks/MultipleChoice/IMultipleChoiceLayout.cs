// IMultipleChoiceLayout: one dataset's JSONL field layout and prompt format (lm-evaluation-harness's doc_to_text/choice/target).
using System.Text.Json;

namespace Compression.Evaluation.Tasks.MultipleChoice;

/// <summary>Turns one JSON object of a dataset's layout into a <see cref="MultipleChoiceDocument"/>.</summary>
public interface IMultipleChoiceLayout
{
    /// <summary>Layout name as given on the command line ("hellaswag", "arc", ...).</summary>
    string Name { get; }

    /// <summary>Prompt-format version; bump when the rendered strings change.</summary>
    string Version { get; }

    /// <summary>Whether <paramref name="line"/> has this layout's distinguishing fields (auto-detection).</summary>
    bool Matches(JsonElement line);

    /// <summary>Parses one line; throws <see cref="InvalidDataException"/> naming the missing or bad field.</summary>
    MultipleChoiceDocument Parse(JsonElement line, string fallbackId);
}
