// LogLikelihoodRequest / LogLikelihood: one "how likely is this continuation after this context" question and its answer.
namespace Compression.Evaluation;

/// <summary>
/// Log-likelihood of <see cref="Continuation"/> following <see cref="Context"/>. Tasks build one context array per
/// distinct context and share it among the requests that use it (the choices of one question), so a model can
/// group requests by context — by reference cheaply, or by content with <see cref="GroupByContext"/> — and prefill
/// the context once. <see cref="Context"/> must not be empty: the first continuation token needs something to be
/// predicted from (prepend BOS).
/// </summary>
public sealed record LogLikelihoodRequest
{
    public LogLikelihoodRequest(int[] context, int[] continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        if (context.Length == 0) throw new ArgumentException("The context must hold at least one token (e.g. BOS).", nameof(context));
        if (continuation.Length == 0) throw new ArgumentException("The continuation must hold at least one token.", nameof(continuation));
        Context = context;
        Continuation = continuation;
    }

    /// <summary>Conditioning tokens (BOS included when the task adds it).</summary>
    public int[] Context { get; }

    /// <summary>Tokens whose log-probabilities are summed.</summary>
    public int[] Continuation { get; }

    /// <summary>
    /// Indices of <paramref name="requests"/> grouped by identical context content, groups in order of first
    /// appearance and indices ascending within a group.
    /// </summary>
    public static IReadOnlyList<int[]> GroupByContext(IReadOnlyList<LogLikelihoodRequest> requests)
    {
        var groups = new Dictionary<int[], List<int>>(TokenSequenceComparer.Instance);
        var order = new List<List<int>>();
        for (int i = 0; i < requests.Count; i++)
        {
            if (!groups.TryGetValue(requests[i].Context, out var list))
            {
                list = [];
                groups.Add(requests[i].Context, list);
                order.Add(list);
            }
            list.Add(i);
        }
        return order.Select(l => l.ToArray()).ToArray();
    }
}

/// <summary>Answer to a <see cref="LogLikelihoodRequest"/>.</summary>
/// <param name="SumLogProb">Sum over continuation tokens of ln P(token | everything before it).</param>
/// <param name="IsGreedy">Whether every continuation token is the model's argmax at its position.</param>
/// <param name="Tokens">Number of continuation tokens scored.</param>
public readonly record struct LogLikelihood(double SumLogProb, bool IsGreedy, int Tokens);

/// <summary>Content equality and hashing for token sequences.</summary>
public sealed class TokenSequenceComparer : IEqualityComparer<int[]>
{
    public static readonly TokenSequenceComparer Instance = new();

    public bool Equals(int[]? x, int[]? y) =>
        ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

    public int GetHashCode(int[] tokens)
    {
        var hash = new HashCode();
        hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tokens.AsSpan()));
        return hash.ToHashCode();
    }
}
