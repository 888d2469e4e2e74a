// SuiteManifest: suite.json — the categories of a written benchmark suite, their sizes and chance levels.
using System.Text.Json;
using System.Text.Json.Serialization;
using Compression.Training.Corpus;

namespace Compression.Training.Suite;

/// <summary>One category file of the suite.</summary>
public sealed record SuiteCategoryInfo
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    /// <summary>The category's file relative to the suite folder, '/'-separated ("agreement.jsonl", "retrieval/recall.jsonl").</summary>
    [JsonPropertyName("file")] public required string File { get; init; }
    /// <summary>"core" (scored by the quickstart) or "retrieval" (in-context retrieval; see <see cref="BenchmarkSuiteGenerator"/>).</summary>
    [JsonPropertyName("set")] public string Set { get; init; } = BenchmarkSuiteGenerator.CoreSet;
    [JsonPropertyName("items")] public int Items { get; init; }
    [JsonPropertyName("choices")] public int Choices { get; init; }
    /// <summary>Accuracy of guessing uniformly: 1 / <see cref="Choices"/>.</summary>
    [JsonPropertyName("chance")] public double Chance { get; init; }
    [JsonPropertyName("meanContextBytes")] public double MeanContextBytes { get; init; }
    [JsonPropertyName("maxContextBytes")] public int MaxContextBytes { get; init; }
    [JsonPropertyName("description")] public required string Description { get; init; }
}

/// <summary>The manifest of a written suite (suite.json).</summary>
public sealed record SuiteManifest
{
    public const string FileName = "suite.json";

    [JsonPropertyName("suite")] public string Suite { get; init; } = "synthetic";
    [JsonPropertyName("layout")] public string Layout { get; init; } = "mc";
    [JsonPropertyName("version")] public int Version { get; init; }
    /// <summary>Version of the corpus generator whose sentence distribution the items are drawn from.</summary>
    [JsonPropertyName("corpusVersion")] public int CorpusVersion { get; init; }
    [JsonPropertyName("seed")] public int Seed { get; init; }
    [JsonPropertyName("categories")] public required IReadOnlyList<SuiteCategoryInfo> Categories { get; init; }

    /// <summary>Reads <c>suite.json</c> from <paramref name="dir"/>; a missing or malformed file is an <see cref="InvalidDataException"/>.</summary>
    public static SuiteManifest Read(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!System.IO.File.Exists(path)) throw new InvalidDataException($"{path}: suite manifest not found");
        try
        {
            return JsonSerializer.Deserialize(System.IO.File.ReadAllText(path), SyntheticJson.Default.SuiteManifest)
                ?? throw new InvalidDataException($"{path}: manifest is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed suite manifest: {e.Message}", e);
        }
    }
}
