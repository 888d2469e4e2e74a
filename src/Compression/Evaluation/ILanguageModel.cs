// ILanguageModel: the only thing evaluation asks of a model — tokenization and log-likelihoods over token ids.
namespace Compression.Evaluation;

/// <summary>
/// A language model as the evaluation harness sees it (STYLE.md §6, lm-evaluation-harness's <c>LM</c>):
/// it tokenizes text and answers log-likelihood questions over token ids. Baseline and quantized
/// models implement it alike; tasks never see tensors.
/// </summary>
public interface ILanguageModel
{
    /// <summary>Number of rows of every log-probability distribution the model produces.</summary>
    int VocabSize { get; }

    /// <summary>Longest token sequence one forward pass accepts (BOS included).</summary>
    int MaxContext { get; }

    /// <summary>
    /// The beginning-of-sequence token the model's tokenizer prepends, or null when it prepends none — Qwen's vocabulary
    /// has a BOS id (&lt;|endoftext|&gt;) but its tokenizer never adds it, and neither llama.cpp nor lm-evaluation-harness
    /// does: evaluation then runs without BOS.
    /// </summary>
    int? BosId { get; }

    /// <summary>Tokenizes <paramref name="text"/>; prepends <see cref="BosId"/> when <paramref name="addBos"/> is set and it is not null.</summary>
    int[] Encode(string text, bool addBos);

    /// <summary>
    /// Number of UTF-8 bytes of text the tokens spell; special tokens such as BOS count zero. For byte-level
    /// BPE this is the sum of each token's byte length, so bits-per-byte can be measured on exactly the scored tokens.
    /// </summary>
    long ByteLength(ReadOnlySpan<int> tokens);

    /// <summary>
    /// Log-likelihood of each request's continuation given its context, in request order. Implementations batch
    /// and may reuse one prefilled KV cache for all requests whose <see cref="LogLikelihoodRequest.Context"/> is
    /// the same (see <see cref="LogLikelihoodRequest.GroupByContext"/>). When context + continuation is longer
    /// than <see cref="MaxContext"/> + 1, the context is truncated from the left (as lm-evaluation-harness does).
    /// </summary>
    IReadOnlyList<LogLikelihood> LogLikelihood(IReadOnlyList<LogLikelihoodRequest> requests);

    /// <summary>
    /// Rolling next-token scoring over one window: runs <paramref name="tokens"/> (at most <see cref="MaxContext"/>)
    /// through the model once and, for every position <c>p</c> in [<paramref name="firstScored"/>, tokens.Length)
    /// in increasing order, calls <paramref name="sink"/> with the log-softmax row of
    /// P(· | tokens[0..p)) — the distribution that predicts <c>tokens[p]</c>. <paramref name="firstScored"/> ≥ 1.
    /// Rows are handed out one at a time so no full (T × V) log-probability table has to be kept.
    /// </summary>
    void ScoreTokens(ReadOnlySpan<int> tokens, int firstScored, ITokenScoreSink sink);
}

/// <summary>Receives the rows produced by <see cref="ILanguageModel.ScoreTokens"/>.</summary>
public interface ITokenScoreSink
{
    /// <summary>
    /// One scored position. <paramref name="logProbs"/> has <see cref="ILanguageModel.VocabSize"/> natural-log
    /// probabilities (a log-softmax row) and is only valid during the call; <c>logProbs[actualToken]</c> is the
    /// log-probability of the token that actually follows.
    /// </summary>
    void Accept(int position, int actualToken, ReadOnlySpan<float> logProbs);
}

/// <summary>
/// A language model that owns native resources (weights, a KV cache, a runtime session): what an evaluation engine
/// hands out, disposed by whoever opened it.
/// </summary>
public interface IOwnedLanguageModel : ILanguageModel, IDisposable;
