// LlamaLanguageModel: ILanguageModel over a loaded LlamaModel — shared contexts are prefilled once into the
// KV cache and every choice is scored from there.
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Evaluation;

/// <summary>
/// Answers log-likelihood requests with a <see cref="LlamaModel"/> (baseline or quantized). Requests that
/// share a context prefill it once; each continuation then runs from the cached prefix (the cache is
/// truncated back to the context between choices). Tokenization is supplied by the caller.
/// </summary>
public sealed class LlamaLanguageModel : ILanguageModel
{
    private readonly LlamaModel _model;
    private readonly Func<string, bool, int[]> _encode;
    private readonly Func<int, int> _tokenBytes;

    /// <param name="model">The model that computes logits.</param>
    /// <param name="encode">Text → ids (second argument: prepend BOS).</param>
    /// <param name="tokenBytes">UTF-8 bytes a token spells (0 for special tokens).</param>
    /// <param name="maxContext">Longest window evaluated (defaults to the model's max_position_embeddings, capped at 4096).</param>
    public LlamaLanguageModel(LlamaModel model, Func<string, bool, int[]> encode, Func<int, int> tokenBytes, int? maxContext = null)
    {
        _model = model;
        _encode = encode;
        _tokenBytes = tokenBytes;
        MaxContext = Math.Min(maxContext ?? 4096, model.Config.MaxPositionEmbeddings);
    }

    public int VocabSize => _model.Config.VocabSize;
    public int MaxContext { get; }
    public int? BosId => _model.Config.BosTokenId;
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
        using var cache = _model.NewCache(MaxContext);
        var row = new float[VocabSize];
        foreach (int[] group in LogLikelihoodRequest.GroupByContext(requests))
        {
            int longest = group.Max(i => requests[i].Continuation.Length);
            if (longest >= MaxContext)
                throw new ArgumentException($"continuation of {longest} tokens does not fit the evaluation context of {MaxContext}");
            // Keep the rightmost context tokens so context + continuation − 1 fits.
            int[] context = requests[group[0]].Context;
            int keep = Math.Min(context.Length, MaxContext - longest + 1);
            var prefix = context.AsSpan(context.Length - keep);
            cache.Truncate(0);
            var last = LastLogits(prefix, cache);                          // predicts Continuation[0]
            int prefixLength = cache.Length;
            foreach (int index in group)
            {
                var continuation = requests[index].Continuation;
                LogSoftmax.Compute(last, row);
                double sum = row[continuation[0]];
                bool greedy = LogSoftmax.ArgMax(row) == continuation[0];
                if (continuation.Length > 1)
                {
                    cache.Truncate(prefixLength);
                    var logits = Logits(continuation.AsSpan(0, continuation.Length - 1), cache); // row k predicts continuation[k+1]
                    for (int k = 1; k < continuation.Length; k++)
                    {
                        LogSoftmax.Compute(logits.AsSpan((k - 1) * VocabSize, VocabSize), row);
                        sum += row[continuation[k]];
                        greedy &= LogSoftmax.ArgMax(row) == continuation[k];
                    }
                }
                results[index] = new LogLikelihood(sum, greedy, continuation.Length);
            }
        }
        return results;
    }

    public void ScoreTokens(ReadOnlySpan<int> tokens, int firstScored, ITokenScoreSink sink)
    {
        if (tokens.Length > MaxContext) throw new ArgumentException($"window of {tokens.Length} tokens exceeds the evaluation context of {MaxContext}");
        if (firstScored < 1 || firstScored > tokens.Length) throw new ArgumentOutOfRangeException(nameof(firstScored));
        if (firstScored == tokens.Length) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var logProbs = nn.functional.log_softmax(_model.Forward(LlamaModel.TokenIds(tokens[..^1]), null)[0], 1).cpu(); // (T-1, V)
        // Rows are read in place (no copy, no TensorAccessor left for the finalizer): less GC pressure on long evaluations.
        var all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(logProbs.contiguous().bytes);
        for (int p = firstScored; p < tokens.Length; p++)
            sink.Accept(p, tokens[p], all.Slice((p - 1) * VocabSize, VocabSize));
    }

    private float[] LastLogits(ReadOnlySpan<int> tokens, KvCache cache)
    {
        var logits = Logits(tokens, cache);
        return logits.AsSpan(logits.Length - VocabSize).ToArray();
    }

    /// <summary>Runs tokens through the model at the cache's position; (T × V) logits row-major.</summary>
    private float[] Logits(ReadOnlySpan<int> tokens, KvCache cache)
    {
        using var scope = NewDisposeScope();
        var logits = _model.Forward(LlamaModel.TokenIds(tokens), cache)[0].cpu().contiguous(); // (T, V)
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(logits.bytes).ToArray();
    }
}
