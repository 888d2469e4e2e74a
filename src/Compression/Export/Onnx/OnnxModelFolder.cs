// OnnxModelFolder: an exported ONNX Runtime GenAI folder read back as a model — checked for the files an engine needs,
// its sizes from genai_config.json, and what its graph holds (parameters, stored format, bytes a decoded token reads).
using System.Text.Json;
using Compression.IO;

namespace Compression.Export.Onnx;

/// <summary>
/// A folder <c>compress export --to onnx</c> wrote (or onnxruntime-genai's builder: the same layout). Opening it reads
/// <c>genai_config.json</c> and the graph's protobuf (not the external weight data), so describing even an 8B export is
/// cheap. Every missing or unreadable part is one error naming the folder and the part.
/// </summary>
public sealed class OnnxModelFolder
{
    public const string ConfigFileName = GenAiConfig.FileName, TokenizerFileName = "tokenizer.json";
    /// <summary>What the exporter wrote: the source checkpoint and each tensor's format (absent in folders of other tools).</summary>
    public const string ManifestFileName = "compress_export.json";

    public string Directory { get; }
    public string ModelPath => Path.Combine(Directory, OnnxExporter.ModelFileName);
    public string TokenizerPath => Path.Combine(Directory, TokenizerFileName);
    public int Layers { get; }
    public int KeyValueHeads { get; }
    public int HeadSize { get; }
    public int VocabSize { get; }
    /// <summary>Positions the export holds (its rotary caches and GenAI's max_length).</summary>
    public int ContextLength { get; }
    /// <summary>Weights of the model (quantized ones counted as the weights they encode).</summary>
    public long ParameterCount => _weights.Parameters;
    /// <summary>Bytes of the graph's weights (packed codes, scales and zero points included; rotary caches not).</summary>
    public long WeightBytes => _weights.Bytes;
    /// <summary>Bytes one decoded token reads: every weight once, but one row of the embedding table.</summary>
    public long WeightBytesPerToken => _weights.BytesPerToken;
    /// <summary>The format most weights are in (from the manifest); "f32" or "matmulnbits-Nbit" for a folder without one.</summary>
    public string StoredFormat { get; }

    private readonly OnnxGraphWeights.Summary _weights;

    private OnnxModelFolder(string dir, int layers, int kvHeads, int headSize, int vocab, int context, OnnxGraphWeights.Summary weights, string storedFormat)
    {
        Directory = dir; Layers = layers; KeyValueHeads = kvHeads; HeadSize = headSize; VocabSize = vocab; ContextLength = context;
        _weights = weights; StoredFormat = storedFormat;
    }

    /// <summary>True when <paramref name="path"/> is a folder holding a genai_config.json or a model.onnx (an ONNX export, valid or not).</summary>
    public static bool IsExport(string path) => System.IO.Directory.Exists(path)
        && (File.Exists(Path.Combine(path, ConfigFileName)) || File.Exists(Path.Combine(path, OnnxExporter.ModelFileName)));

    /// <summary>Reads and checks the folder; <paramref name="engine"/> prefixes every error ("onnxruntime").</summary>
    public static OnnxModelFolder Open(string dir, string engine = "onnxruntime")
    {
        if (!System.IO.Directory.Exists(dir))
            throw new FileNotFoundException($"{engine}: {dir}: no such folder (expected a folder written by compress export --to onnx)", dir);
        var missing = new[] { ConfigFileName, OnnxExporter.ModelFileName, TokenizerFileName }.Where(f => !File.Exists(Path.Combine(dir, f))).ToList();
        if (missing.Count > 0)
            throw new FileNotFoundException($"{engine}: {dir}: not an ONNX model folder: {string.Join(", ", missing)} missing (expected a folder written by compress export --to onnx)",
                Path.Combine(dir, missing[0]));
        string config = Path.Combine(dir, ConfigFileName);
        int layers, kvHeads, headSize, vocab, context;
        try
        {
            using var doc = JsonDocument.Parse(InputFile.ReadAllText(config, Model.LlamaConfig.MaxFileBytes, "genai_config.json"));
            var m = doc.RootElement.GetProperty("model");
            var d = m.GetProperty("decoder");
            layers = d.GetProperty("num_hidden_layers").GetInt32();
            kvHeads = d.GetProperty("num_key_value_heads").GetInt32();
            headSize = d.GetProperty("head_size").GetInt32();
            vocab = m.GetProperty("vocab_size").GetInt32();
            context = m.GetProperty("context_length").GetInt32();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{engine}: {config}: not a genai_config.json this engine reads ({e.Message})");
        }
        if (layers < 1 || kvHeads < 1 || headSize < 1 || vocab < 1 || context < 1)
            throw new InvalidDataException($"{engine}: {config}: sizes must be positive (layers {layers}, kv heads {kvHeads}, head size {headSize}, vocab {vocab}, context {context})");
        var weights = OnnxGraphWeights.Read(Path.Combine(dir, OnnxExporter.ModelFileName), engine);
        return new OnnxModelFolder(dir, layers, kvHeads, headSize, vocab, context, weights, ReadStoredFormat(dir, weights, engine));
    }

    /// <summary>The manifest's most common tensor format (as a checkpoint's stored format is named), else what the graph shows.</summary>
    private static string ReadStoredFormat(string dir, OnnxGraphWeights.Summary weights, string engine)
    {
        string path = Path.Combine(dir, ManifestFileName);
        if (!File.Exists(path)) return weights.NBits.Count == 0 ? "f32" : $"matmulnbits-{weights.NBits.Max()}bit";
        try
        {
            using var doc = JsonDocument.Parse(InputFile.ReadAllText(path, Model.LlamaConfig.MaxFileBytes, ManifestFileName));
            var counts = doc.RootElement.GetProperty("tensors").EnumerateArray()
                .GroupBy(t => t.GetProperty("format").GetString() ?? throw new InvalidDataException("a tensor has no format"))
                .ToDictionary(g => g.Key, g => g.Count());
            return counts.Count == 0 ? "f32" : counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First().Key;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{engine}: {path}: not a manifest this tool wrote ({e.Message})");
        }
    }

    /// <summary>The manifest the exporter writes beside the graph: source, options and every weight's format and encoding.</summary>
    internal static string ManifestJson(string source, OnnxExportOptions options, IReadOnlyList<OnnxExportedTensor> tensors) =>
        JsonSerializer.Serialize(new
        {
            tool = "compress export --to onnx",
            source,
            accuracy_level = options.AccuracyLevel,
            block = options.Block,
            tensors = tensors.Select(t => new { name = t.Name, format = t.Format.Name, encoding = t.Encoding }),
        }, new JsonSerializerOptions { WriteIndented = true });
}
