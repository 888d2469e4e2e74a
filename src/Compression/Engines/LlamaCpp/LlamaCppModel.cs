// LlamaCppModel: a GGUF file loaded in mainline llama.cpp — logits of every position, and timed prefill/decode for
// the side-by-side benchmark. One context, reused: its KV cache is cleared between runs.
using LLama;
using LLama.Common;
using LLama.Native;

namespace Compression.Engines.LlamaCpp;

/// <summary>How to open a GGUF in llama.cpp.</summary>
public sealed record LlamaCppOptions
{
    /// <summary>Threads for decode and prefill; default: the processor count.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>KV cache positions (prompt + generated tokens).</summary>
    public int ContextSize { get; init; } = 512;
    /// <summary>Largest batch decoded at once (logical and physical batch): at least the longest prompt.</summary>
    public int BatchSize { get; init; } = 512;
    /// <summary>
    /// Float32 KV cache and no flash attention: llama.cpp's defaults (F16 cache) move logits by ~1e-2; with these its
    /// logits match a float64 reference to ~4e-6, so it can serve as a reference. Off for speed measurements, to
    /// measure llama.cpp as its users run it.
    /// </summary>
    public bool ExactAttention { get; init; }
}

/// <summary>A GGUF loaded in llama.cpp; dispose to free it.</summary>
public sealed class LlamaCppModel : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();

    private LlamaCppModel(string path, LLamaWeights weights, LLamaContext context, LlamaCppOptions options)
    {
        Path = path;
        _weights = weights;
        _context = context;
        Options = options;
        VocabSize = weights.Vocab.Count;
    }

    public string Path { get; }
    public LlamaCppOptions Options { get; }
    public int VocabSize { get; }

    /// <summary>
    /// Loads <paramref name="path"/>. A file llama.cpp rejects gives an <see cref="InvalidDataException"/> naming the
    /// engine, the file and llama.cpp's own reason; a missing file a <see cref="FileNotFoundException"/>.
    /// </summary>
    public static LlamaCppModel Load(string path, LlamaCppOptions? options = null)
    {
        options ??= new LlamaCppOptions();
        if (!File.Exists(path)) throw new FileNotFoundException($"{LlamaCppRuntime.EngineName}: {path} does not exist", path);
        if (options.Threads < 1) throw new ArgumentException($"threads must be positive, got {options.Threads}");
        if (options.BatchSize < 1 || options.ContextSize < 1) throw new ArgumentException("context and batch sizes must be positive");
        CheckMagic(path);
        LlamaCppRuntime.EnsureLoaded();
        LlamaCppRuntime.ClearLog();
        var p = new ModelParams(System.IO.Path.GetFullPath(path))
        {
            ContextSize = (uint)options.ContextSize,
            BatchSize = (uint)options.BatchSize,
            UBatchSize = (uint)options.BatchSize,
            Threads = options.Threads,
            BatchThreads = options.Threads,
            GpuLayerCount = 0,
            LoadMode = LLamaLoadMode.MemoryMap, // llama.cpp's own default (use_mmap): weights stay file-backed unless repacked
        };
        if (options.ExactAttention)
        {
            p.FlashAttention = false;
            p.TypeK = GGMLType.GGML_TYPE_F32;
            p.TypeV = GGMLType.GGML_TYPE_F32;
        }
        LLamaWeights weights;
        try { weights = LLamaWeights.LoadFromFile(p); }
        catch (LLama.Exceptions.LoadWeightsFailedException)
        {
            throw new InvalidDataException($"{LlamaCppRuntime.EngineName} cannot load {path}: {Reason()}");
        }
        try
        {
            var context = weights.CreateContext(p);
            return new LlamaCppModel(path, weights, context, options);
        }
        catch (Exception e) when (e is LLama.Exceptions.RuntimeError or InvalidOperationException)
        {
            weights.Dispose();
            throw new InvalidDataException($"{LlamaCppRuntime.EngineName} cannot create a context for {path}: {Reason()}");
        }
    }

    private static string Reason()
    {
        string log = LlamaCppRuntime.RecentErrors();
        return log.Length > 0 ? log : "no reason logged";
    }

    /// <summary>
    /// llama.cpp's GGUF reader aborts the process on some malformed headers; a file that does not even start with
    /// the magic is refused here, before it reaches native code.
    /// </summary>
    private static void CheckMagic(string path)
    {
        Span<byte> head = stackalloc byte[8];
        using var f = File.OpenRead(path);
        if (f.ReadAtLeast(head, 8, throwOnEndOfStream: false) < 8 || !head[..4].SequenceEqual("GGUF"u8))
            throw new InvalidDataException($"{LlamaCppRuntime.EngineName} cannot load {path}: not a GGUF file (no GGUF magic)");
    }

    /// <summary>Logits of every position of <paramref name="tokens"/> from an empty cache: row i = logits after token i.</summary>
    public float[,] Logits(ReadOnlySpan<int> tokens)
    {
        Run(tokens);
        var result = new float[tokens.Length, VocabSize];
        for (int i = 0; i < tokens.Length; i++)
        {
            var row = _context.NativeHandle.GetLogitsIth(i);
            for (int j = 0; j < VocabSize; j++) result[i, j] = row[j];
        }
        return result;
    }

    /// <summary>
    /// Logits of every position of <paramref name="tokens"/> from an empty cache into <paramref name="destination"/>
    /// (row-major T × <see cref="VocabSize"/>, row i = logits after token i): the evaluation engine's one call.
    /// </summary>
    public void Logits(ReadOnlySpan<int> tokens, Span<float> destination)
    {
        if (destination.Length != (long)tokens.Length * VocabSize)
            throw new ArgumentException($"destination holds {destination.Length} values, not {tokens.Length} × {VocabSize}");
        Run(tokens);
        for (int i = 0; i < tokens.Length; i++)
            _context.NativeHandle.GetLogitsIth(i).CopyTo(destination.Slice(i * VocabSize, VocabSize));
    }

    private void Run(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length == 0) throw new ArgumentException("no tokens");
        if (tokens.Length > Options.BatchSize || tokens.Length > Options.ContextSize)
            throw new ArgumentException($"{tokens.Length} tokens exceed llama.cpp's batch ({Options.BatchSize}) or context ({Options.ContextSize})");
        foreach (int t in tokens)
            if ((uint)t >= (uint)VocabSize) throw new ArgumentException($"token id {t} is outside the vocabulary [0, {VocabSize})");
        Reset();
        _batch.Clear();
        for (int i = 0; i < tokens.Length; i++) _batch.Add(tokens[i], i, LLamaSeqId.Zero, logits: true);
        Decode();
    }

    /// <summary>Empties the KV cache (the next call starts at position 0).</summary>
    public void Reset() => _context.NativeHandle.MemoryClear(true);

    /// <summary>Prefills <paramref name="prompt"/> in one batch (logits of the last position only); returns its argmax.</summary>
    public int Prefill(ReadOnlySpan<int> prompt)
    {
        _batch.Clear();
        for (int i = 0; i < prompt.Length; i++) _batch.Add(prompt[i], i, LLamaSeqId.Zero, logits: i == prompt.Length - 1);
        Decode();
        return ArgMax(_context.NativeHandle.GetLogitsIth(prompt.Length - 1));
    }

    /// <summary>Decodes <paramref name="token"/> at <paramref name="position"/> through the KV cache; returns the greedy next token.</summary>
    public int DecodeOne(int token, int position)
    {
        _batch.Clear();
        _batch.Add(token, position, LLamaSeqId.Zero, logits: true);
        Decode();
        return ArgMax(_context.NativeHandle.GetLogitsIth(0));
    }

    private void Decode()
    {
        var status = _context.NativeHandle.Decode(_batch);
        if (status != DecodeResult.Ok)
            throw new InvalidOperationException($"{LlamaCppRuntime.EngineName}: decode of {_batch.TokenCount} tokens failed on {Path} ({status}): {Reason()}");
    }

    private static int ArgMax(Span<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
