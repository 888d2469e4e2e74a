// SyntheticJson: source-generated JSON metadata for the corpus and benchmark manifests (works with reflection disabled, e.g. in file-based apps).
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Compression.Training.Suite;

namespace Compression.Training.Corpus;

[JsonSerializable(typeof(CorpusManifest))]
[JsonSerializable(typeof(SuiteManifest))]
internal sealed partial class SyntheticJson : JsonSerializerContext
{
    // Indented output that keeps ' and + readable (the text is ASCII written by us, never embedded in HTML).
    // Built lazily: the generated Default is not yet initialised while this class's static fields are.
    private static SyntheticJson? _readable;
    private static SyntheticJson Readable => _readable ??= new SyntheticJson(new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>Serialises <paramref name="value"/> indented and readable, ending with a newline.</summary>
    public static string Serialize<T>(T value) =>
        JsonSerializer.Serialize(value, (JsonTypeInfo<T>)Readable.GetTypeInfo(typeof(T))!) + "\n";
}
