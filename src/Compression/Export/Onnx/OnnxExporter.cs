// OnnxExporter: streams a checkpoint into an ONNX Runtime GenAI model folder (model.onnx + model.onnx.data +
// genai_config.json + tokenizer + compress_export.json manifest), tensor by tensor, in the formats a quantization policy picks.
using Compression.Checkpoints;
using Compression.IO;
using Compression.Model;
using Compression.Quantization;
using Compression.Tokenization;
using Google.Protobuf;

namespace Compression.Export.Onnx;

/// <summary>Options of <see cref="OnnxExporter.Write"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>
    /// MatMulNBits <c>accuracy_level</c>: 0 computes in float32 from the dequantized weights (the workbench's own
    /// prefill arithmetic); 4 quantizes activations to int8 per block for integer dot products (faster, slightly less exact).
    /// </summary>
    public int AccuracyLevel { get; init; } = 4;
    /// <summary>MatMulNBits block for formats that leave it free (int8's per-row scale is repeated per block): 16 … 256, a power of 2.</summary>
    public int Block { get; init; } = 128;
    /// <summary>Positions of the rotary cos/sin caches and genai's default max_length; default: the config's max_position_embeddings.</summary>
    public int? ContextLength { get; init; }
    /// <summary>Most bytes of one tensor held in memory at once.</summary>
    public int ChunkBytes { get; init; } = 64 << 20;
}

/// <summary>Progress after each tensor.</summary>
public readonly record struct OnnxExportProgress(int TensorIndex, int TensorCount, string TensorName);

/// <summary>One exported weight: HF name, the format its values have, and how the graph holds it.</summary>
public sealed record OnnxExportedTensor(string Name, TensorFormat Format, string Encoding);

/// <summary>What an export wrote.</summary>
public sealed record OnnxExportResult(string Directory, long ModelBytes, long DataBytes, IReadOnlyList<OnnxExportedTensor> Tensors, IReadOnlyList<string> TokenizerFiles);

public static class OnnxExporter
{
    public const string ModelFileName = "model.onnx";
    /// <summary>Files copied from a Hugging Face checkpoint folder when present.</summary>
    public static readonly string[] TokenizerFileNames =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"];

    /// <summary>
    /// Writes <paramref name="input"/> as an onnxruntime-genai model folder at <paramref name="outDir"/>.
    /// <paramref name="chooseFormat"/> picks each 2-D tensor's format (e.g. <c>QuantizationPolicy.Choose</c>): formats
    /// MatMulNBits can hold exactly (int4, int8, q4_0, q8_0) become MatMulNBits nodes, float formats become MatMul over
    /// float32 values rounded through the format; a q4_0 embedding is a GatherBlockQuantized node over the same blocks,
    /// any other a float32 Gather table holding the chosen format's values (GatherBlockQuantized is 4-bit only and
    /// refuses float zero points, so int4's embedding cannot use it). A tied LM head is written as its own MatMul/MatMulNBits over the
    /// embedding's tensor and gets the policy's LM-head choice (under the default and --pure policies the same format
    /// the embedding gets, as in the workbench's model, where a tied head shares the embedding's packed weight).
    /// The folder is written beside <paramref name="outDir"/> under a temporary name and renamed into place when complete.
    /// </summary>
    public static OnnxExportResult Write(Checkpoint input, Func<TensorSpec, TensorFormat> chooseFormat, string outDir,
        OnnxExportOptions? options = null, IProgress<OnnxExportProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new OnnxExportOptions();
        if (options.AccuracyLevel is not (0 or 1 or 2 or 3 or 4))
            throw new ArgumentException($"accuracy level {options.AccuracyLevel}: MatMulNBits takes 0 (float) to 4 (int8 activations)");
        if (options.Block < 16 || options.Block > 256 || (options.Block & (options.Block - 1)) != 0)
            throw new ArgumentException($"--block {options.Block}: MatMulNBits needs a power of 2 from 16 to 256");
        var c = input.Config;
        // The graph is the Llama block; a family whose block differs must not be written as one.
        string? unsupported = c.Family.QueryKeyNorm ? "per-head q/k norms" : c.Experts > 0 ? "mixture of experts" : c.AttentionWindow is not null ? "sliding-window attention" : null;
        if (unsupported is not null)
            throw new NotSupportedException($"{input.Path}: ONNX export writes the Llama graph; the {c.Family.Name} architecture's {unsupported} has no ONNX form here");
        int context = options.ContextLength ?? c.MaxPositionEmbeddings;
        if (context < 1) throw new ArgumentException($"context length {context} must be positive");
        var specs = LlamaTensorLayout.Expected(c).ToDictionary(s => s.Name);
        var embedSpec = specs["model.embed_tokens.weight"];
        TensorFormat Choice(TensorSpec spec)
        {
            var f = chooseFormat(spec); // a tied head comes as the embedding's tensor with the LM head's role
            if (!f.IsFloat && MatMulNBitsLayout.For(f) is null && (spec.Role != TensorRole.Embedding))
                throw new NotSupportedException($"{spec.Name}: format {f.Name} has no exact ONNX Runtime MatMulNBits form; export int4, int8, q4_0, q8_0 or a float format");
            if (!f.IsFloat && !f.CanQuantize) throw new NotSupportedException($"{spec.Name}: the workbench cannot produce {f.Name}");
            return f;
        }
        // Fail before writing anything if some tensor has no ONNX form.
        foreach (var spec in specs.Values.Where(s => !s.IsNorm)) Choice(spec);
        if (c.TieWordEmbeddings) Choice(embedSpec with { Role = TensorRole.LmHead });

        string full = Path.GetFullPath(outDir);
        if (File.Exists(full)) throw new ArgumentException($"--out {outDir}: a file is in the way (an ONNX export is a folder)");
        string parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        string tmp = Path.Combine(parent, $"{Path.GetFileName(full)}.{Guid.NewGuid():N}{AtomicFile.TempSuffix}");
        Directory.CreateDirectory(tmp);
        try
        {
            var exported = new List<OnnxExportedTensor>();
            long modelBytes, dataBytes;
            using (var initializers = new OnnxInitializers(tmp))
            {
                var graph = new OnnxGraph(initializers);
                var weights = new OnnxWeights(initializers, options.ChunkBytes);
                int done = 0, total = specs.Count + (c.TieWordEmbeddings ? 1 : 0);
                void Report(string name)
                {
                    ct.ThrowIfCancellationRequested();
                    progress?.Report(new OnnxExportProgress(done++, total, name));
                }

                string Linear(TensorSpec spec, string x, string node)
                {
                    Report(spec.Role == TensorRole.LmHead ? "lm_head.weight" : spec.Name);
                    var stored = input[spec.Name];
                    var f = Choice(spec);
                    string weightName = node.TrimStart('/').Replace('/', '.');
                    if (f.IsFloat)
                    {
                        weights.Transposed($"{weightName}.MatMul.weight", stored, f);
                        exported.Add(new(spec.Role == TensorRole.LmHead ? "lm_head.weight" : spec.Name, f, "MatMul f32"));
                        return graph.Node("MatMul", $"{node}/MatMul", [x, $"{weightName}.MatMul.weight"])[0];
                    }
                    var layout = MatMulNBitsLayout.For(f)!;
                    var (b, s, z, block) = weights.NBits($"{weightName}.MatMul.weight", stored, f, layout, options.Block);
                    exported.Add(new(spec.Role == TensorRole.LmHead ? "lm_head.weight" : spec.Name, f, $"MatMulNBits {layout.Bits}-bit, block {block}"));
                    return graph.Node("MatMulNBits", $"{node}/MatMulNBits", z is null ? [x, b, s] : [x, b, s, z], domain: OnnxGraph.MicrosoftDomain,
                        attributes:
                        [
                            ("K", stored.Cols), ("N", stored.Rows), ("bits", (long)layout.Bits), ("block_size", (long)block),
                            ("accuracy_level", (long)options.AccuracyLevel),
                        ])[0];
                }

                string Embedding(TensorSpec spec, string ids)
                {
                    Report(spec.Name);
                    var f = Choice(spec);
                    if (!f.IsFloat && MatMulNBitsLayout.For(f) is { Bits: 4, FloatZeroPoints: false } layout)
                    {
                        // GatherBlockQuantized reads the same 4-bit blocks as MatMulNBits, as [V, H/2] bytes; it takes
                        // only packed integer zero points (default 8), so int4's float zeros use the float table below.
                        var (b, s, z, block) = weights.NBits(spec.Name, input[spec.Name], f, layout, options.Block, flatten: true);
                        exported.Add(new(spec.Name, f, $"GatherBlockQuantized 4-bit, block {block}"));
                        return graph.Node("GatherBlockQuantized", "/model/embed_tokens/GatherBlockQuantized",
                            z is null ? [b, ids, s] : [b, ids, s, z], domain: OnnxGraph.MicrosoftDomain,
                            attributes: [("bits", 4L), ("block_size", (long)block), ("gather_axis", 0L), ("quantize_axis", 1L)])[0];
                    }
                    weights.Rows(spec.Name, input[spec.Name], f);
                    exported.Add(new(spec.Name, f, "Gather f32"));
                    return graph.Node("Gather", "/model/embed_tokens/Gather", [spec.Name, ids])[0];
                }

                string Norm(TensorSpec spec)
                {
                    Report(spec.Name);
                    initializers.Add(spec.Name, Proto.TensorProto.Types.DataType.Float, [spec.Shape[0]], input[spec.Name].ToFloat32().AsSpan());
                    return spec.Name;
                }

                var rotary = RotaryCaches(initializers, c, input.RopeFrequencyFactors, context);
                LlamaOnnxGraph.Build(graph, c, specs, Linear, Embedding, Norm, rotary);
                initializers.Complete();
                dataBytes = initializers.DataBytes;
                var model = graph.ToModel("main_graph", typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0");
                using (var fs = new FileStream(Path.Combine(tmp, ModelFileName), FileMode.CreateNew, FileAccess.Write))
                {
                    model.WriteTo(fs);
                    fs.Flush(flushToDisk: true);
                    modelBytes = fs.Length;
                }
            }
            File.WriteAllText(Path.Combine(tmp, GenAiConfig.FileName), GenAiConfig.Json(c, ModelFileName, context));
            File.WriteAllText(Path.Combine(tmp, OnnxModelFolder.ManifestFileName), OnnxModelFolder.ManifestJson(input.Path, options, exported));
            var tokenizerFiles = CopyTokenizer(input, tmp);
            Replace(tmp, full);
            return new OnnxExportResult(full, modelBytes, dataBytes, exported, tokenizerFiles);
        }
        catch
        {
            try { Directory.Delete(tmp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// cos/sin caches [context, head_dim/2] for GroupQueryAttention's rotate-half RoPE: cos(p·inv_freq[i]) with the
    /// workbench's inverse frequencies (Llama 3 scaling or GGUF rope_freqs divisors baked in), computed in float64.
    /// </summary>
    private static (string Cos, string Sin) RotaryCaches(OnnxInitializers initializers, LlamaConfig c, IReadOnlyList<float>? factors, int context)
    {
        var inv = RotaryEmbedding.InverseFrequencies(c, factors);
        int half = inv.Length;
        var cos = new float[(long)context * half];
        var sin = new float[(long)context * half];
        for (int p = 0; p < context; p++)
            for (int i = 0; i < half; i++)
            {
                double a = p * inv[i];
                cos[(long)p * half + i] = (float)Math.Cos(a);
                sin[(long)p * half + i] = (float)Math.Sin(a);
            }
        initializers.Add("cos_cache", Proto.TensorProto.Types.DataType.Float, [context, half], cos.AsSpan());
        initializers.Add("sin_cache", Proto.TensorProto.Types.DataType.Float, [context, half], sin.AsSpan());
        return ("cos_cache", "sin_cache");
    }

    /// <summary>Copies the tokenizer files of a checkpoint folder, or writes tokenizer.json from a GGUF's vocabulary.</summary>
    private static List<string> CopyTokenizer(Checkpoint input, string dir)
    {
        string? folder = Directory.Exists(input.Path) ? input.Path : Path.GetDirectoryName(Path.GetFullPath(input.Path));
        var copied = new List<string>();
        if (input.Kind == "safetensors" && folder is not null)
            foreach (var name in TokenizerFileNames)
            {
                string src = Path.Combine(folder, name);
                if (File.Exists(src)) { File.Copy(src, Path.Combine(dir, name)); copied.Add(name); }
            }
        if (!copied.Contains("tokenizer.json") && input.LoadTokenizerData() is { } data)
        {
            TokenizerJson.Save(data, Path.Combine(dir, "tokenizer.json"));
            copied.Add("tokenizer.json");
            copied.Add(TokenizerJson.ConfigFileName);
        }
        return copied;
    }

    /// <summary>Moves the finished folder into place; an earlier export there is replaced only once the new one is complete.</summary>
    private static void Replace(string tmp, string full)
    {
        if (!Directory.Exists(full)) { Directory.Move(tmp, full); return; }
        bool earlierExport = File.Exists(Path.Combine(full, GenAiConfig.FileName)) || !Directory.EnumerateFileSystemEntries(full).Any();
        if (!earlierExport)
            throw new ArgumentException($"--out {full}: the folder exists and is not an earlier ONNX export; choose an empty or new folder");
        string old = $"{tmp}.old";
        Directory.Move(full, old);
        Directory.Move(tmp, full);
        Directory.Delete(old, recursive: true);
    }
}
