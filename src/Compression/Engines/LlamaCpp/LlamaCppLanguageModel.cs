// LlamaCppLanguageModel: a GGUF file as an evaluation engine — mainline llama.cpp answers the log-likelihood questions,
// the workbench's tokenizer (read from the same file) tokenizes, so every engine scores the very same token ids.
using Compression.Checkpoints.Gguf;
using Compression.Evaluation;
using Compression.Tokenization;

namespace Compression.Engines.LlamaCpp;

/// <summary>
/// <see cref="ILanguageModel"/> over <see cref="LlamaCppModel"/>: each call is one prefill from an empty cache with the
/// logits of every position (<see cref="LogitsLanguageModelBase"/>). Opened with a float32 KV cache and no flash attention
/// (<see cref="LlamaCppOptions.ExactAttention"/>), so the difference to another engine is the weights' format, not
/// llama.cpp's F16 cache (~1e-2 in the logits).
/// </summary>
public sealed class LlamaCppLanguageModel : LogitsLanguageModelBase, IOwnedLanguageModel
{
    private readonly LlamaCppModel _model;
    private readonly LlamaTokenizer? _tokenizer;

    private LlamaCppLanguageModel(LlamaCppModel model, LlamaTokenizer? tokenizer, int? bos, int maxContext)
    {
        _model = model;
        _tokenizer = tokenizer;
        BosId = bos;
        MaxContext = maxContext;
    }

    /// <summary>The GGUF file evaluated.</summary>
    public string Path => _model.Path;

    /// <summary>
    /// Opens <paramref name="ggufPath"/> for windows of at most <paramref name="maxContext"/> tokens (default: the file's
    /// context length, capped at 4096). Errors name the engine and the file (see <see cref="LlamaCppModel.Load"/>).
    /// </summary>
    public static LlamaCppLanguageModel Open(string ggufPath, int? maxContext = null, int threads = 0)
    {
        if (!File.Exists(ggufPath)) throw new FileNotFoundException($"{LlamaCppRuntime.EngineName}: {ggufPath} does not exist", ggufPath);
        GgufSummary summary;
        LlamaTokenizer? tokenizer;
        try
        {
            // Metadata only: a k-quant file the workbench cannot compute with still has its tokenizer read here.
            summary = GgufSummary.Read(ggufPath);
            tokenizer = summary.Tokenizer is { } data ? new LlamaTokenizer(data) : null;
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or EndOfStreamException or ArgumentException or InvalidOperationException)
        {
            // The workbench's reader refuses the file before llama.cpp sees it: say which engine was asked to load it.
            throw new InvalidDataException($"{LlamaCppRuntime.EngineName} cannot load {ggufPath}: {e.Message}", e);
        }
        int context = summary.Config.MaxPositionEmbeddings, vocab = summary.Config.VocabSize;
        int? bos = tokenizer is { Data.AddBos: false } ? null : tokenizer?.BosId ?? summary.Config.BosTokenId; // see ILanguageModel.BosId
        int max = Math.Min(maxContext ?? 4096, context);
        var model = LlamaCppModel.Load(ggufPath, new LlamaCppOptions
        {
            ContextSize = max,
            BatchSize = max,
            ExactAttention = true,
            Threads = threads > 0 ? threads : Environment.ProcessorCount,
        });
        if (model.VocabSize != vocab)
        {
            model.Dispose();
            throw new InvalidDataException($"{LlamaCppRuntime.EngineName}: {ggufPath}: llama.cpp sees {model.VocabSize} tokens, the file's vocab_size is {vocab}");
        }
        return new LlamaCppLanguageModel(model, tokenizer, bos, max);
    }

    public override int VocabSize => _model.VocabSize;
    public override int MaxContext { get; }
    public override int? BosId { get; }

    public override int[] Encode(string text, bool addBos) =>
        (_tokenizer ?? throw new InvalidDataException($"{Path}: the GGUF has no tokenizer (tokenizer.ggml.*); text tasks need one")).Encode(text, addBos && BosId is not null);

    public override long ByteLength(ReadOnlySpan<int> tokens)
    {
        if (_tokenizer is null) throw new InvalidDataException($"{Path}: the GGUF has no tokenizer; bytes per token are unknown");
        long bytes = 0;
        foreach (int t in tokens) bytes += _tokenizer.IsSpecial(t) ? 0 : _tokenizer.TokenBytes(t).Length;
        return bytes;
    }

    protected override float[] Logits(ReadOnlySpan<int> tokens)
    {
        var logits = new float[(long)tokens.Length * VocabSize];
        _model.Logits(tokens, logits);
        return logits;
    }

    public void Dispose() => _model.Dispose();
}
