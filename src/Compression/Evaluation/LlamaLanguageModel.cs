// LlamaLanguageModel: ILanguageModel over a loaded LlamaModel — shared contexts are prefilled once into the
// KV cache and every choice is scored from there.
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Evaluation;

/// <summary>
/// Answers log-likelihood requests with a <see cref="LlamaModel"/> (baseline or quantized). Requests that
/// share a context prefill it once; each continuation then runs from the cached prefix (the cache is
/// truncated back to the context between choices). Only the LM-head rows a request scores are computed, and only their
/// log-probabilities of the targets leave libtorch. Tokenization is supplied by the caller. Dispose to free the KV cache.
/// </summary>
public sealed class LlamaLanguageModel : IOwnedLanguageModel
{
    private readonly LlamaModel _model;
    private readonly Func<string, bool, int[]> _encode;
    private readonly Func<int, int> _tokenBytes;

    /// <param name="model">The model that computes logits.</param>
    /// <param name="encode">Text → ids (second argument: prepend BOS).</param>
    /// <param name="tokenBytes">UTF-8 bytes a token spells (0 for special tokens).</param>
    /// <param name="maxContext">Longest window evaluated (defaults to the model's max_position_embeddings, capped at 4096).</param>
    public LlamaLanguageModel(LlamaModel model, Func<string, bool, int[]> encode, Func<int, int> tokenBytes, int? maxContext = null)
        : this(model, encode, tokenBytes, maxContext, model.Config.BosTokenId) { }

    /// <param name="bosId">The BOS the tokenizer prepends; null: none.</param>
    private LlamaLanguageModel(LlamaModel model, Func<string, bool, int[]> encode, Func<int, int> tokenBytes, int? maxContext, int? bosId)
    {
        _model = model;
        BosId = bosId;
        _encode = encode;
        _tokenBytes = tokenBytes;
        MaxContext = Math.Min(maxContext ?? 4096, model.Config.MaxPositionEmbeddings);
    }

    /// <summary>The model with a Llama tokenizer: its encoding, and UTF-8 byte lengths with special tokens counting zero.
    /// BOS is the tokenizer's when it adds one (Llama), none when it does not (Qwen: see <see cref="ILanguageModel.BosId"/>).</summary>
    public static LlamaLanguageModel WithTokenizer(LlamaModel model, Tokenization.LlamaTokenizer tokenizer, int? maxContext = null) =>
        new(model, (text, bos) => tokenizer.Encode(text, bos && tokenizer.Data.AddBos), id => tokenizer.IsSpecial(id) ? 0 : tokenizer.TokenBytes(id).Length,
            maxContext, tokenizer.Data.AddBos ? tokenizer.BosId ?? model.Config.BosTokenId : null);

    public int VocabSize => _model.Config.VocabSize;
    public int MaxContext { get; }
    public int? BosId { get; }
    public LlamaModel Model => _model;

    public int[] Encode(string text, bool addBos) => _encode(text, addBos);

    public long ByteLength(ReadOnlySpan<int> tokens)
    {
        long bytes = 0;
        foreach (int t in tokens) bytes += _tokenBytes(t);
        return bytes;
    }

    public IReadOnlyList<LogLikelihood> LogLikelihood(IReadOnlyList<LogLikelihoodRequest> requests)
    {
        var results = new LogLikelihood[requests.Count];
        using var noGrad = no_grad();
        foreach (int[] group in LogLikelihoodRequest.GroupByContext(requests))
        {
            int longest = group.Max(i => requests[i].Continuation.Length);
            if (longest >= MaxContext)
                throw new ArgumentException($"continuation of {longest} tokens does not fit the evaluation context of {MaxContext}");
            // Keep the rightmost context tokens so context + continuation − 1 fits.
            int[] context = requests[group[0]].Context;
            int keep = Math.Min(context.Length, MaxContext - longest + 1);
            var prefix = context.AsSpan(context.Length - keep);
            var cache = Cache(keep + longest - 1);
            cache.Truncate(0);
            using var scope = NewDisposeScope();
            var last = _model.Head(_model.Hidden(LlamaModel.TokenIds(prefix), cache)[0].narrow(0, keep - 1, 1)); // (1, V): predicts Continuation[0]
            int prefixLength = cache.Length;
            foreach (int index in group)
            {
                var continuation = requests[index].Continuation;
                var logits = last;
                if (continuation.Length > 1)
                {
                    cache.Truncate(prefixLength);
                    var rest = _model.Head(_model.Hidden(LlamaModel.TokenIds(continuation.AsSpan(0, continuation.Length - 1)), cache)[0]);
                    logits = cat([last, rest], 0);                                    // (n, V): row k predicts continuation[k]
                }
                results[index] = Score(logits, continuation);
            }
        }
        return results;
    }

    /// <summary>
    /// Sum of log P(targets[k]) over rows k of (n, V) logits, and whether every target is the row's argmax — read
    /// from libtorch as 2n numbers, never as an (n × V) managed copy. The log-softmax is taken as
    /// <see cref="LogSoftmax.Compute"/> does (max subtracted, partition in double, rounded to float).
    /// </summary>
    private static LogLikelihood Score(Tensor logits, int[] targets)
    {
        using var scope = NewDisposeScope();
        var wide = logits.to(ScalarType.Float64);
        var logProbs = (wide - wide.logsumexp(1, keepdim: true)).to(ScalarType.Float32); // (n, V)
        var ids = LlamaModel.TokenIds(targets).view(-1, 1);                                 // (n, 1)
        var picked = logProbs.gather(1, ids).view(-1).to(ScalarType.Float64).cpu().data<double>().ToArray();
        var best = logProbs.argmax(1).cpu().data<long>().ToArray();
        double sum = 0;
        bool greedy = true;
        for (int k = 0; k < targets.Length; k++)
        {
            sum += picked[k];
            greedy &= best[k] == targets[k];
        }
        return new LogLikelihood(sum, greedy, targets.Length);
    }

    public void ScoreTokens(ReadOnlySpan<int> tokens, int firstScored, ITokenScoreSink sink)
    {
        if (tokens.Length > MaxContext) throw new ArgumentException($"window of {tokens.Length} tokens exceeds the evaluation context of {MaxContext}");
        if (firstScored < 1 || firstScored > tokens.Length) throw new ArgumentOutOfRangeException(nameof(firstScored));
        if (firstScored == tokens.Length) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var hidden = _model.Hidden(LlamaModel.TokenIds(tokens[..^1]), null)[0];            // (T-1, H)
        // The head and log-softmax run a chunk of rows at a time (native memory: chunk × V floats, not T × V), and the
        // rows are read in place (no managed copy, no TensorAccessor left for the finalizer).
        for (int from = firstScored - 1; from < tokens.Length - 1; from += ScoreChunkRows)
        {
            using var chunkScope = NewDisposeScope();
            int rows = Math.Min(ScoreChunkRows, tokens.Length - 1 - from);
            var logProbs = nn.functional.log_softmax(_model.Head(hidden.narrow(0, from, rows)), 1).cpu().contiguous(); // (rows, V)
            var all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(logProbs.bytes);
            for (int r = 0; r < rows; r++)
                sink.Accept(from + r + 1, tokens[from + r + 1], all.Slice(r * VocabSize, VocabSize));
        }
    }

    /// <summary>Rows of log-probabilities <see cref="ScoreTokens"/> computes at once.</summary>
    private const int ScoreChunkRows = 128;

    /// <summary>
    /// The one KV cache this adapter reuses across requests, grown (doubling, up to <see cref="MaxContext"/>) when a
    /// request needs more positions: a cache of the full context is not allocated for every question.
    /// </summary>
    private KvCache Cache(int positions)
    {
        if (_cache is null || _cache.Capacity < positions)
        {
            int capacity = Math.Min(MaxContext, Math.Max(positions, Math.Max(256, 2 * (_cache?.Capacity ?? 0))));
            _cache?.Dispose();
            _cache = null;
            _cache = _model.NewCache(capacity);
        }
        return _cache;
    }

    private KvCache? _cache;

    /// <summary>Frees the KV cache (the model is not owned).</summary>
    public void Dispose()
    {
        _cache?.Dispose();
        _cache = null;
    }
}
