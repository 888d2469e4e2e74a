// LogitsLanguageModelBase: the whole ILanguageModel contract on top of one stateless "logits for these tokens" call.
namespace Compression.Evaluation;

/// <summary>
/// Implements <see cref="ILanguageModel"/> from a single full forward pass, <see cref="Logits"/>. Simple and
/// obviously correct — test fakes and the plain adapter use it; a KV-cached adapter implements the interface
/// directly and must give the same numbers.
/// </summary>
public abstract class LogitsLanguageModelBase : ILanguageModel
{
    public abstract int VocabSize { get; }
    public abstract int MaxContext { get; }
    public abstract int? BosId { get; }
    public abstract int[] Encode(string text, bool addBos);
    public abstract long ByteLength(ReadOnlySpan<int> tokens);

    /// <summary>
    /// Next-token logits for every position of <paramref name="tokens"/> (1 ≤ length ≤ <see cref="MaxContext"/>):
    /// a row-major (T × <see cref="VocabSize"/>) array whose row t predicts token t + 1.
    /// </summary>
    protected abstract float[] Logits(ReadOnlySpan<int> tokens);

    /// <inheritdoc/>
    public IReadOnlyList<LogLikelihood> LogLikelihood(IReadOnlyList<LogLikelihoodRequest> requests)
    {
        var results = new LogLikelihood[requests.Count];
        int v = VocabSize;
        var row = new float[v];
        int[]? lastInput = null;
        float[]? lastLogits = null;
        // Grouped so requests with one shared context and one-token continuations (e.g. " A".." D") cost one pass.
        foreach (int[] group in LogLikelihoodRequest.GroupByContext(requests))
        {
            foreach (int index in group)
            {
                var request = requests[index];
                if (request.Continuation.Length > MaxContext)
                    throw new ArgumentException($"Request {index}: continuation of {request.Continuation.Length} tokens exceeds the model context of {MaxContext}.");
                // Input is context + continuation minus its last token, keeping the rightmost MaxContext tokens.
                int total = request.Context.Length + request.Continuation.Length - 1;
                int dropped = Math.Max(0, total - MaxContext);
                int[] input = new int[total - dropped];
                for (int i = 0; i < input.Length; i++)
                {
                    int j = i + dropped;
                    input[i] = j < request.Context.Length ? request.Context[j] : request.Continuation[j - request.Context.Length];
                }
                float[] logits = lastInput is not null && lastInput.AsSpan().SequenceEqual(input)
                    ? lastLogits!
                    : CheckedLogits(input);
                (lastInput, lastLogits) = (input, logits);

                double sum = 0;
                bool greedy = true;
                int firstRow = request.Context.Length - 1 - dropped; // row predicting Continuation[0]
                for (int k = 0; k < request.Continuation.Length; k++)
                {
                    LogSoftmax.Compute(logits.AsSpan((firstRow + k) * v, v), row);
                    int target = request.Continuation[k];
                    sum += row[target];
                    greedy &= LogSoftmax.ArgMax(row) == target;
                }
                results[index] = new LogLikelihood(sum, greedy, request.Continuation.Length);
            }
        }
        return results;
    }

    /// <inheritdoc/>
    public void ScoreTokens(ReadOnlySpan<int> tokens, int firstScored, ITokenScoreSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (tokens.Length > MaxContext) throw new ArgumentException($"Window of {tokens.Length} tokens exceeds the model context of {MaxContext}.", nameof(tokens));
        if (firstScored < 1 || firstScored > tokens.Length) throw new ArgumentOutOfRangeException(nameof(firstScored), firstScored, $"Must be in [1, {tokens.Length}].");
        if (firstScored == tokens.Length) return;
        int v = VocabSize;
        float[] logits = CheckedLogits(tokens[..^1]);
        var row = new float[v];
        for (int p = firstScored; p < tokens.Length; p++)
        {
            LogSoftmax.Compute(logits.AsSpan((p - 1) * v, v), row);
            sink.Accept(p, tokens[p], row);
        }
    }

    private float[] CheckedLogits(ReadOnlySpan<int> tokens)
    {
        float[] logits = Logits(tokens);
        if (logits.Length != (long)tokens.Length * VocabSize)
            throw new InvalidOperationException($"Logits returned {logits.Length} values for {tokens.Length} tokens × {VocabSize} vocabulary.");
        return logits;
    }
}
