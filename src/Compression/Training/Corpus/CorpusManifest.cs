// CorpusManifest: what WriteSplits produced (seed, version, sizes, entropy estimate), saved as corpus.json beside the splits.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Compression.Training.Corpus;

/// <summary>Sizes and information content of one kind of document within a split.</summary>
public sealed record CorpusKindStats
{
    [JsonPropertyName("documents")] public long Documents { get; init; }
    [JsonPropertyName("bytes")] public long Bytes { get; init; }
    [JsonPropertyName("entropyBits")] public double EntropyBits { get; init; }
    [JsonPropertyName("entropyBitsPerByte")] public double EntropyBitsPerByte { get; init; }
}

/// <summary>One split file (train.txt, valid.txt or test.txt).</summary>
public sealed record CorpusSplitInfo
{
    [JsonPropertyName("file")] public required string File { get; init; }
    /// <summary>File size in bytes, separators included.</summary>
    [JsonPropertyName("bytes")] public long Bytes { get; init; }
    [JsonPropertyName("documents")] public long Documents { get; init; }
    /// <summary>Σ −log2 P(choice) over the split's documents (see <see cref="CorpusManifest.EntropyMethod"/>).</summary>
    [JsonPropertyName("entropyBits")] public double EntropyBits { get; init; }
    [JsonPropertyName("entropyBitsPerByte")] public double EntropyBitsPerByte { get; init; }
    [JsonPropertyName("meanDocumentBytes")] public double MeanDocumentBytes { get; init; }
    [JsonPropertyName("maxDocumentBytes")] public int MaxDocumentBytes { get; init; }
    [JsonPropertyName("kinds")] public required IReadOnlyDictionary<string, CorpusKindStats> Kinds { get; init; }
}

/// <summary>The manifest of a written corpus (corpus.json).</summary>
public sealed record CorpusManifest
{
    public const string FileName = "corpus.json";

    [JsonPropertyName("generator")] public string Generator { get; init; } = "Compression.SyntheticCorpus";
    [JsonPropertyName("version")] public int Version { get; init; }
    [JsonPropertyName("seed")] public int Seed { get; init; }
    /// <summary>What follows every document, including the last: a blank line.</summary>
    [JsonPropertyName("documentSeparator")] public string DocumentSeparator { get; init; } = CorpusGenerator.DocumentSeparator;
    /// <summary>The training split's entropy estimate in bits per byte: the loss floor a perfect model approaches.</summary>
    [JsonPropertyName("entropyBitsPerByte")] public double EntropyBitsPerByte { get; init; }
    [JsonPropertyName("entropyMethod")] public string EntropyMethod { get; init; } = CorpusGenerator.EntropyMethod;
    [JsonPropertyName("train")] public required CorpusSplitInfo Train { get; init; }
    [JsonPropertyName("valid")] public required CorpusSplitInfo Valid { get; init; }
    [JsonPropertyName("test")] public required CorpusSplitInfo Test { get; init; }

    /// <summary>Reads <c>corpus.json</c> from <paramref name="dir"/>; a missing or malformed file is an <see cref="InvalidDataException"/>.</summary>
    public static CorpusManifest Read(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!System.IO.File.Exists(path)) throw new InvalidDataException($"{path}: corpus manifest not found");
        try
        {
            return JsonSerializer.Deserialize(System.IO.File.ReadAllText(path), SyntheticJson.Default.CorpusManifest)
                ?? throw new InvalidDataException($"{path}: manifest is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed corpus manifest: {e.Message}", e);
        }
    }
}
