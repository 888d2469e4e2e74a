// SuiteItem: one multiple-choice item in the workbench's generic "mc" JSONL layout.
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Compression.Training.Suite;

/// <summary>
/// A multiple-choice item: a model scores log P(choice | context) for each choice appended to the
/// context exactly as given (choices carry their own leading space); <see cref="Answer"/> indexes the right one.
/// </summary>
public sealed record SuiteItem(string Id, string Context, IReadOnlyList<string> Choices, int Answer)
{
    private static readonly JsonWriterOptions LineOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the item as one JSON object (no newline): {"id", "context", "choices", "answer"}.</summary>
    public void WriteJson(Stream destination)
    {
        using var w = new Utf8JsonWriter(destination, LineOptions);
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("context", Context);
        w.WriteStartArray("choices");
        foreach (string c in Choices) w.WriteStringValue(c);
        w.WriteEndArray();
        w.WriteNumber("answer", Answer);
        w.WriteEndObject();
    }
}
