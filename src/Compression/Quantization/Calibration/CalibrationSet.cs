// CalibrationSet: N token sequences of L tokens drawn (seeded) from a text or JSONL file — the data calibrated methods see.
using System.Text.Json;

namespace Compression.Quantization.Calibration;

/// <summary>What a calibration set was made from; recorded with every result of a calibrated method.</summary>
/// <param name="File">The source file (its name is what results carry).</param>
/// <param name="Sequences">N, the number of sequences.</param>
/// <param name="Length">L, tokens per sequence.</param>
/// <param name="Seed">Seed of the window draw.</param>
public sealed record CalibrationSpec(string File, int Sequences = 32, int Length = 256, int Seed = 1234)
{
    /// <summary>A short label for results ("train.txt 32×256 seed 1234").</summary>
    public string Label => $"{Path.GetFileName(File)} {Sequences}×{Length} seed {Seed}";
}

/// <summary>
/// The token sequences of a calibration set. Documents (paragraphs of a text file split on blank lines, or the "text"
/// field — or "context", for multiple-choice files — of each JSONL line) are encoded with BOS and concatenated, up to
/// 16·N·L tokens; N windows of L tokens start at distinct offsets
/// drawn with the seed, so the same spec always gives the same tokens.
/// </summary>
public sealed class CalibrationSet
{
    public CalibrationSet(CalibrationSpec spec, IReadOnlyList<int[]> sequences) => (Spec, Sequences) = (spec, sequences);

    public CalibrationSpec Spec { get; }
    public IReadOnlyList<int[]> Sequences { get; }

    /// <summary>Reads and tokenizes <paramref name="spec"/>'s file. Bad input is an <see cref="InvalidDataException"/> naming the file.</summary>
    public static CalibrationSet Load(CalibrationSpec spec, Func<string, int[]> encodeWithBos)
    {
        if (!System.IO.File.Exists(spec.File)) throw new FileNotFoundException($"calibration file not found: {spec.File}", spec.File);
        if (spec.Sequences < 1 || spec.Length < 2)
            throw new ArgumentException($"{spec.File}: calibration needs at least 1 sequence of at least 2 tokens, got {spec.Sequences}×{spec.Length}");
        var documents = Documents(spec.File);
        if (documents.Count == 0) throw new InvalidDataException($"{spec.File}: the calibration file holds no text");
        // Windows are drawn from the first documents holding 16·N·L tokens: room for N distinct windows without
        // tokenizing a whole training corpus (12 MB for the proxy) to pick a few thousand tokens.
        long wanted = 16L * spec.Sequences * spec.Length;
        var tokens = new List<int>();
        foreach (string doc in documents)
        {
            tokens.AddRange(encodeWithBos(doc));
            if (tokens.Count >= wanted) break;
        }
        if (tokens.Count < spec.Length)
            throw new InvalidDataException($"{spec.File}: {tokens.Count} tokens is too short for calibration sequences of {spec.Length} tokens");
        return new CalibrationSet(spec, Draw(tokens, spec));
    }

    /// <summary>N windows at seeded offsets, distinct while the text has room for them.</summary>
    private static IReadOnlyList<int[]> Draw(List<int> tokens, CalibrationSpec spec)
    {
        int starts = tokens.Count - spec.Length + 1;
        var random = new Random(spec.Seed);
        var used = new HashSet<int>();
        var sequences = new List<int[]>();
        for (int i = 0; i < spec.Sequences; i++)
        {
            int start = random.Next(starts);
            for (int tries = 0; used.Contains(start) && tries < 16 && used.Count < starts; tries++) start = random.Next(starts);
            used.Add(start);
            sequences.Add(tokens.GetRange(start, spec.Length).ToArray());
        }
        return sequences;
    }

    /// <summary>The "text" of a JSONL object, or its "context" (the prompts of a multiple-choice file, e.g. the suite's).</summary>
    private static string? TextField(JsonElement o)
    {
        foreach (string name in new[] { "text", "context" })
            if (o.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String) return t.GetString();
        return null;
    }

    private static List<string> Documents(string path)
    {
        if (path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            var docs = new List<string>();
            int line = 0;
            foreach (string text in System.IO.File.ReadLines(path))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                try
                {
                    using var json = JsonDocument.Parse(text);
                    string? doc = json.RootElement.ValueKind == JsonValueKind.String ? json.RootElement.GetString()
                        : json.RootElement.ValueKind == JsonValueKind.Object && TextField(json.RootElement) is { } t ? t
                        : throw new InvalidDataException($"{path}: line {line}: expected a JSON string or an object with a \"text\" (or \"context\") string");
                    if (!string.IsNullOrWhiteSpace(doc)) docs.Add(doc!);
                }
                catch (JsonException e)
                {
                    throw new InvalidDataException($"{path}: line {line}: not valid JSON ({e.Message.Split(" Path:")[0]})", e);
                }
            }
            return docs;
        }
        return System.IO.File.ReadAllText(path).Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(d => d.Length > 0).ToList();
    }
}
