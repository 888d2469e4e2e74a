// SyntheticJson: source-generated JSON metadata for the corpus and benchmark manifests (works with reflection disabled, e.g. in file-based apps).
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Compression.Training.Suite;

namespace Compression.Training.Corpus;

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(CorpusManifest))]
[JsonSerializable(typeof(SuiteManifest))]
internal sealed partial class SyntheticJson : JsonSerializerContext
{
    /// <summary>Indented output that keeps ' and + readable (the text is ASCII written by us, never embedded in HTML).</summary>
    public static readonly JsonSerializerOptions Readable = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = Default,
    };

    /// <summary>Serialises <paramref name="value"/> with <see cref="Readable"/>, ending with a newline.</summary>
    public static string Serialize<T>(T value) =>
        JsonSerializer.Serialize(value, (JsonTypeInfo<T>)Readable.GetTypeInfo(typeof(T))) + "\n";
}
