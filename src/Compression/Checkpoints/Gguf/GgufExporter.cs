// GgufExporter: streams a checkpoint into a llama.cpp-compatible GGUF file, tensor by tensor and chunk by
// chunk, quantizing each row with the format a caller-supplied policy picks.
using Compression.Model;
using Compression.Quantization;
using Compression.Tokenization;

namespace Compression.Checkpoints.Gguf;

/// <summary>Options of <see cref="GgufExporter.Write"/>.</summary>
public sealed record GgufExportOptions
{
    /// <summary><c>general.name</c>; default: the input GGUF's general.name, else the input's file or folder name.</summary>
    public string? Name { get; init; }
    /// <summary>
    /// <c>rope_freqs.weight</c> values; default: the input GGUF's factors, else those llama.cpp derives from a
    /// llama3 rope_scaling config (<see cref="GgufRopeFactors.FromConfig"/>), else none.
    /// </summary>
    public IReadOnlyList<float>? RopeFrequencyFactors { get; init; }
    /// <summary>
    /// Write <c>general.alignment</c> (32) explicitly. Off by default because llama.cpp's converter and
    /// llama-quantize omit it when it is the GGUF default, and readers assume 32.
    /// </summary>
    public bool WriteAlignmentKey { get; init; }
    /// <summary>Size of the float32 working buffer: the most of a tensor held in memory at once.</summary>
    public int ChunkBytes { get; init; } = 16 << 20;
    /// <summary>Write tensors holding NaN or ±Inf instead of refusing them.</summary>
    public bool AllowNonFinite { get; init; }
    /// <summary>
    /// Further string keys, written after <c>general.name</c> (how the weights were made: <c>compression.method</c>,
    /// <c>compression.calibration</c>); llama.cpp ignores keys it does not know.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata { get; init; } = [];
    /// <summary>
    /// Packs the rows of some tensors itself instead of the chosen format's <see cref="TensorFormat.QuantizeRow"/>: given a
    /// tensor's HF name and format, an encoder or null (the default). QAT with learned block scales writes each block with
    /// its trained scale this way. The encoder must produce a valid row of the format.
    /// </summary>
    public Func<string, TensorFormat, GgufRowEncoder?>? Encoders { get; init; }
}

/// <summary>Packs HF row <paramref name="row"/> (float32 values <paramref name="src"/>) into <paramref name="dst"/>, one row of the tensor's format.</summary>
public delegate void GgufRowEncoder(long row, ReadOnlySpan<float> src, Span<byte> dst);

/// <summary>Progress of an export, reported after each chunk.</summary>
public readonly record struct GgufExportProgress(int TensorIndex, int TensorCount, string TensorName, long BytesWritten, long TotalBytes);

/// <summary>What an export wrote.</summary>
public sealed record GgufExportResult(string Path, long FileBytes, uint? FileType, IReadOnlyList<GgufExportedTensor> Tensors);

/// <summary>One written tensor: GGUF name, HF name (null for rope_freqs and merged expert tensors), format and bytes.</summary>
public sealed record GgufExportedTensor(string GgufName, string? HfName, TensorFormat Format, long Bytes);

/// <summary>Writes checkpoints as GGUF (their family's architecture) in llama.cpp's tensor order and metadata layout.</summary>
public static class GgufExporter
{
    /// <summary>
    /// Exports <paramref name="input"/> to <paramref name="outPath"/>. <paramref name="chooseFormat"/> gets each
    /// 2-D tensor's spec and GGUF name (e.g. <c>QuantizationPolicy.Choose</c>); 1-D tensors (norms) are always F32.
    /// Rows are read as float32 a chunk at a time, Q/K rows permuted into llama.cpp's order, and quantized with
    /// the chosen format's <see cref="TensorFormat.QuantizeRow"/>; a tensor already stored in the chosen format
    /// is copied as it is (no re-quantization). The file appears only when complete. A null <paramref name="tokenizer"/>
    /// writes <c>tokenizer.ggml.model = no_vocab</c>, as llama.cpp does for models without a vocabulary.
    /// </summary>
    public static GgufExportResult Write(
        Checkpoint input, TokenizerData? tokenizer, Func<TensorSpec, string, TensorFormat> chooseFormat, string outPath,
        GgufExportOptions? options = null, IProgress<GgufExportProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new GgufExportOptions();
        if (options.ChunkBytes < 4) throw new ArgumentException("ChunkBytes must be at least 4");
        var config = input.Config;
        if (tokenizer is not null && tokenizer.TokenTypes.Count != tokenizer.Tokens.Count)
            throw new ArgumentException($"tokenizer has {tokenizer.Tokens.Count} tokens but {tokenizer.TokenTypes.Count} token types");
        var gguf = input as GgufCheckpoint;
        var ropeFactors = options.RopeFrequencyFactors ?? input.RopeFrequencyFactors ?? GgufRopeFactors.FromConfig(config);
        if (ropeFactors is not null && ropeFactors.Count != config.HeadDim / 2)
            throw new ArgumentException($"{ropeFactors.Count} rope frequency factors given, expected head_dim/2 = {config.HeadDim / 2}");

        // Plan: every GGUF tensor with the HF tensors it holds (one; or every expert of a merged Mixtral tensor, expert-major),
        // its name and format, in llama.cpp's order.
        var family = config.Family;
        var plan = new List<(List<TensorSpec>? Specs, string GgufName, TensorFormat Format)>();
        var merged = new Dictionary<string, int>();
        foreach (var spec in LlamaTensorLayout.Expected(config))
        {
            string name = GgufTensorNames.ToGguf(spec.Name) ?? throw new InvalidOperationException($"no GGUF name for {spec.Name}");
            // Norms and routers stay F32, as llama.cpp's converter and llama-quantize keep them.
            var format = spec.Shape.Length < 2 || spec.Role == TensorRole.Router ? FormatRegistry.F32 : chooseFormat(spec, name);
            CheckWritable(spec, name, format);
            if (spec.Expert >= 0 && merged.TryGetValue(name, out int at))
            {
                if (plan[at].Format != format)
                    throw new ArgumentException($"{name}: experts of one merged tensor need one format, got {plan[at].Format.Name} and {format.Name} ({spec.Name})");
                plan[at].Specs!.Add(spec);
                continue;
            }
            if (spec.Expert >= 0) merged[name] = plan.Count;
            plan.Add(([spec], name, format));
            if (spec.Role == TensorRole.Embedding && ropeFactors is not null)
                plan.Add((null, GgufTensorNames.RopeFrequencies, FormatRegistry.F32)); // where the converter puts it
        }

        var dominant = plan.Where(p => p.Specs is [{ Shape.Length: 2 }, ..])
            .GroupBy(p => p.Format).OrderByDescending(g => g.Sum(p => p.Specs!.Sum(s => s.Elements))).First().Key;
        uint? fileType = GgmlTypes.FileType(dominant);
        bool quantized = plan.Any(p => !p.Format.IsFloat);

        using var writer = new GgufWriter(outPath);
        writer.AddString("general.architecture", family.GgufArchitecture);
        writer.AddString("general.name", options.Name ?? gguf?.Name ?? DefaultName(input.Path));
        foreach (var (key, value) in options.Metadata) writer.AddString(key, value);
        if (options.WriteAlignmentKey) writer.AddUInt32(GgufFile.AlignmentKey, writer.Alignment);
        AddModelKeys(writer, config);
        if (fileType is uint ft) writer.AddUInt32("general.file_type", ft);
        if (tokenizer is null) writer.AddString("tokenizer.ggml.model", "no_vocab");
        else AddTokenizerKeys(writer, tokenizer, config);
        if (quantized) writer.AddUInt32("general.quantization_version", 2);

        foreach (var (specs, name, format) in plan)
        {
            long[] dims = specs is null ? [ropeFactors!.Count]
                : specs.Count == 1 && specs[0].Expert < 0 ? specs[0].Shape.Reverse().ToArray()
                : [.. specs[0].Shape.Reverse(), specs.Count]; // ggml order of (Experts, rows, cols)
            writer.AddTensor(name, dims, format);
        }

        long total = Enumerable.Range(0, writer.TensorCount).Sum(writer.TensorByteLength), written = 0;
        var tensors = new List<GgufExportedTensor>();
        for (int i = 0; i < plan.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var (specs, name, format) = plan[i];
            if (specs is null)
            {
                writer.WriteTensorData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(ropeFactors!.ToArray().AsSpan()));
                written += writer.TensorByteLength(i);
            }
            else
            {
                foreach (var spec in specs)
                {
                    var heads = GgufTensorNames.PermutedHeads(spec, config);
                    var source = input[spec.Name];
                    NonFinite.Check(source, options.AllowNonFinite);
                    WriteTensor(writer, source, format, heads, options.Encoders?.Invoke(spec.Name, format), options.ChunkBytes, ct, bytes =>
                    {
                        written += bytes;
                        progress?.Report(new(i, plan.Count, name, written, total));
                    });
                }
            }
            tensors.Add(new(name, specs is [var only] ? only.Name : null, format, writer.TensorByteLength(i)));
            progress?.Report(new(i, plan.Count, name, written, total));
        }
        ct.ThrowIfCancellationRequested();
        writer.Complete();
        return new GgufExportResult(writer.Path, new FileInfo(writer.Path).Length, fileType, tensors);
    }

    private static void CheckWritable(TensorSpec spec, string name, TensorFormat format)
    {
        if (format.GgmlTypeId is null)
            throw new ArgumentException($"{name}: format {format.Name} has no GGUF type id and cannot be written to GGUF");
        if (!format.CanQuantize)
            throw new ArgumentException($"{name}: the workbench cannot produce format {format.Name}");
        if (!format.Supports(spec.Shape[^1]))
            throw new ArgumentException($"{name}: rows of {spec.Shape[^1]} weights do not fit format {format.Name} (block size {format.BlockSize})");
    }

    /// <summary>
    /// Streams one tensor: GGUF row g holds HF row <c>hfRow[g]</c> (identity except for Q/K). Same-format tensors
    /// are copied row by row; others are dequantized to float32 and quantized, a chunk of rows at a time.
    /// </summary>
    private static void WriteTensor(GgufWriter writer, StoredTensor source, TensorFormat format, int? heads, GgufRowEncoder? encoder,
                                    int chunkBytes, CancellationToken ct, Action<long> onChunk)
    {
        int rows = checked((int)source.Rows), cols = checked((int)source.Cols);
        int[]? hfRow = heads is int h ? GgufTensorNames.HfRowOfStoredRow(rows, h) : null;
        int rowBytes = checked((int)format.RowBytes(cols));
        int chunkRows = Math.Clamp(chunkBytes / Math.Max(1, cols * 4), 1, Math.Max(1, rows));
        bool copy = source.Format == format && encoder is null; // no re-quantization: exact, and loses nothing for quantized inputs
        var packed = new byte[checked(chunkRows * rowBytes)];
        var floats = copy ? [] : new float[checked(chunkRows * cols)];
        for (int first = 0; first < rows; first += chunkRows)
        {
            ct.ThrowIfCancellationRequested();
            int n = Math.Min(chunkRows, rows - first);
            // Rows of a chunk are independent (each has its own slice of both buffers): quantize them in parallel.
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = copy ? 1 : -1 }, k =>
            {
                int src = hfRow is null ? first + k : hfRow[first + k];
                var dst = packed.AsSpan(k * rowBytes, rowBytes);
                if (copy) source.Row(src).CopyTo(dst);
                else
                {
                    var row = floats.AsSpan(k * cols, cols);
                    source.ReadRows(src, 1, row);
                    if (encoder is null) format.QuantizeRow(row, dst);
                    else encoder(src, row, dst);
                }
            });
            writer.WriteTensorData(packed.AsSpan(0, n * rowBytes));
            onChunk((long)n * rowBytes);
        }
    }

    private static void AddModelKeys(GgufWriter w, LlamaConfig c)
    {
        string p = c.Family.GgufArchitecture + ".";
        w.AddUInt32(p + "context_length", (uint)c.MaxPositionEmbeddings);
        w.AddUInt32(p + "embedding_length", (uint)c.HiddenSize);
        w.AddUInt32(p + "block_count", (uint)c.NumLayers);
        w.AddUInt32(p + "feed_forward_length", (uint)c.IntermediateSize);
        w.AddUInt32(p + "attention.head_count", (uint)c.NumHeads);
        w.AddUInt32(p + "attention.head_count_kv", (uint)c.NumKeyValueHeads);
        w.AddUInt32(p + "attention.key_length", (uint)c.HeadDim);
        w.AddUInt32(p + "attention.value_length", (uint)c.HeadDim);
        w.AddUInt32(p + "rope.dimension_count", (uint)c.HeadDim);
        w.AddFloat32(p + "rope.freq_base", (float)c.RopeTheta);
        w.AddFloat32(p + "attention.layer_norm_rms_epsilon", (float)c.RmsNormEps);
        w.AddUInt32(p + "vocab_size", (uint)c.VocabSize);
        if (c.Experts > 0)
        {
            w.AddUInt32(p + "expert_count", (uint)c.Experts);
            w.AddUInt32(p + "expert_used_count", (uint)c.ExpertsPerToken);
        }
        if (c.AttentionWindow is int window) w.AddUInt32(p + "attention.sliding_window", (uint)window);
    }

    // A vocabulary shorter than the embedding (a vocab_size padded for alignment) is padded with unused "[PADn]" tokens, as
    // llama.cpp's convert_hf_to_gguf.py does: llama.cpp takes n_vocab from the token list and refuses an embedding of another size.
    private static void AddTokenizerKeys(GgufWriter w, TokenizerData t, LlamaConfig c) =>
        GgufTokenizer.Write(w, GgufTokenizer.PaddedTo(t, c.VocabSize)!, t.BosId ?? c.BosTokenId, t.EosId ?? (c.EosTokenIds.Length > 0 ? c.EosTokenIds[0] : null));

    private static string DefaultName(string path)
    {
        string trimmed = path.TrimEnd('/', '\\');
        return Directory.Exists(trimmed) ? System.IO.Path.GetFileName(trimmed) : System.IO.Path.GetFileNameWithoutExtension(trimmed);
    }
}
