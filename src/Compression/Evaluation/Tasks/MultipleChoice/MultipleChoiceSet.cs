// MultipleChoiceSet: a JSONL task file read into documents, with file:line errors for malformed lines.
using System.Text.Json;

namespace Compression.Evaluation.Tasks.MultipleChoice;

/// <summary>The documents of one task file and the layout they were read with.</summary>
public sealed record MultipleChoiceSet(string Source, IMultipleChoiceLayout Layout, IReadOnlyList<MultipleChoiceDocument> Documents)
{
    /// <summary>
    /// Reads a JSONL file (one JSON object per line, blank lines ignored). The layout is <paramref name="layout"/>
    /// when given, else detected from the first line's fields. Any malformed line throws
    /// <see cref="InvalidDataException"/> "path:line: problem".
    /// </summary>
    public static MultipleChoiceSet Read(string path, string? layout = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Task file not found: {path}", path);
        // A pipe or device would block or never end; an empty file has no documents.
        if (new FileInfo(path).Length == 0) throw new InvalidDataException($"{path}: no documents (empty file, or not a regular file).");
        using var reader = new StreamReader(Compression.IO.InputFile.Resolve(path), System.Text.Encoding.UTF8);
        return Read(reader, path, layout);
    }

    /// <summary>Reads JSONL from <paramref name="reader"/>; <paramref name="source"/> names it in errors.</summary>
    public static MultipleChoiceSet Read(TextReader reader, string source, string? layout = null)
    {
        IMultipleChoiceLayout? chosen = layout is null ? null : MultipleChoiceLayouts.Get(layout);
        var documents = new List<MultipleChoiceDocument>();
        int lineNumber = 0;
        string? text;
        while ((text = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            try
            {
                using var json = JsonDocument.Parse(text);
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"expected a JSON object, got {root.ValueKind}");
                chosen ??= MultipleChoiceLayouts.Detect(root)
                    ?? throw new InvalidDataException($"cannot tell the layout from fields [{string.Join(", ", root.EnumerateObject().Select(p => p.Name))}]; name it explicitly ({string.Join(", ", MultipleChoiceLayouts.All.Select(l => l.Name))})");
                var document = chosen.Parse(root, $"{Path.GetFileName(source)}:{lineNumber}");
                document.Validate();
                documents.Add(document);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{source}:{lineNumber}: invalid JSON: {e.Message}", e);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{source}:{lineNumber}: {(chosen is null ? "" : chosen.Name + ": ")}{e.Message}", e);
            }
        }
        if (documents.Count == 0 || chosen is null) throw new InvalidDataException($"{source}: no documents.");
        return new MultipleChoiceSet(source, chosen, documents);
    }
}
