// WindowOptions / TokenWindows: how a long token stream is cut into model-sized windows so each token is scored once.
namespace Compression.Evaluation.Tasks;

/// <summary>
/// Windowing of a tokenized text for rolling evaluation (perplexity, KL divergence).
/// <para>
/// The text is tokenized once, without BOS. With <see cref="PrependBos"/> (the default) every window is
/// <c>[BOS] + text[begin..end)</c>, at most <see cref="ContextLength"/> tokens in all; BOS is context only and
/// never scored, and every text token — the first one included, predicted from BOS alone — is scored exactly once.
/// Without BOS a window is <c>text[begin..end)</c>; its first token has no prediction, so the text's first token
/// is never scored and consecutive windows share at least one token.
/// </para>
/// <para>
/// <see cref="Stride"/> is how far each window starts after the previous one, in text tokens. Left null it takes
/// its largest value, <c>ContextLength − 1</c>: non-overlapping windows with BOS; without BOS, windows of
/// <c>ContextLength</c> tokens sharing one token of context. A smaller stride gives a sliding window as in Hugging
/// Face's perplexity guide: each window scores only the tokens no earlier window scored, using the rest as context.
/// </para>
/// </summary>
public sealed record WindowOptions
{
    /// <summary>Model input length per window, BOS included.</summary>
    public int ContextLength { get; init; } = 512;

    /// <summary>Start-to-start distance of consecutive windows in text tokens; null = non-overlapping.</summary>
    public int? Stride { get; init; }

    /// <summary>Prepend BOS to every window (scored tokens then never lack context) — when the model's tokenizer
    /// prepends one: see <see cref="For"/>.</summary>
    public bool PrependBos { get; init; } = true;

    /// <summary>Evaluate only the first this many text tokens (quick runs); null = the whole text.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>
    /// When set (e.g. "\n\n"), the text is a list of documents: each is tokenized and windowed on its own,
    /// starting from its own BOS, and the separators are not scored — lm-evaluation-harness's per-document
    /// rolling log-likelihood. Null (the default) scores the text as one stream.
    /// </summary>
    public string? DocumentSeparator { get; init; }

    /// <summary>Text tokens a window holds.</summary>
    public int WindowTokens => ContextLength - (PrependBos ? 1 : 0);

    /// <summary>Tokens a window needs before its first scorable token (1 without BOS).</summary>
    public int MinContext => PrependBos ? 0 : 1;

    /// <summary>The stride in effect, validated against the window size.</summary>
    public int EffectiveStride
    {
        get
        {
            int max = WindowTokens - MinContext;
            if (max < 1) throw new ArgumentException($"Context length {ContextLength} leaves no token to score.");
            int stride = Stride ?? max;
            if (stride < 1 || stride > max)
                throw new ArgumentException($"Stride {stride} must be in [1, {max}] for context length {ContextLength} (a larger stride would leave tokens unscored).");
            return stride;
        }
    }

    /// <summary>
    /// The options as they apply to <paramref name="model"/>: without BOS when its tokenizer prepends none (Qwen; see
    /// <see cref="ILanguageModel.BosId"/>), as llama.cpp's perplexity and lm-evaluation-harness do.
    /// </summary>
    public WindowOptions For(ILanguageModel model) => PrependBos && model.BosId is null ? this with { PrependBos = false } : this;

    /// <summary>Checks the options against a model and returns the BOS id to prepend (null when not prepending).</summary>
    public int? Validate(ILanguageModel model)
    {
        if (ContextLength < 2) throw new ArgumentException($"Context length must be at least 2, got {ContextLength}.");
        if (ContextLength > model.MaxContext) throw new ArgumentException($"Context length {ContextLength} exceeds the model's maximum context {model.MaxContext}.");
        if (MaxTokens is < 1) throw new ArgumentException($"MaxTokens must be positive, got {MaxTokens}.");
        _ = EffectiveStride;
        if (!PrependBos) return null;
        return model.BosId ?? throw new ArgumentException("PrependBos is set but the model has no BOS token; set PrependBos = false.");
    }
}

/// <summary>One window over text tokens [<see cref="Begin"/>, <see cref="End"/>), scoring [<see cref="ScoredFrom"/>, <see cref="End"/>).</summary>
public readonly record struct TokenWindow(int Begin, int End, int ScoredFrom)
{
    /// <summary>Number of tokens the window scores.</summary>
    public int Scored => End - ScoredFrom;
}

/// <summary>Plans windows so that every scorable token is scored exactly once.</summary>
public static class TokenWindows
{
    /// <summary>
    /// Windows over <paramref name="tokenCount"/> text tokens, each at most <paramref name="windowTokens"/> long,
    /// starting every <paramref name="stride"/> tokens (the last may be shorter), each scoring the tokens after
    /// the previous window's end and at least <paramref name="minContext"/> tokens into the window. Tokens
    /// [minContext, tokenCount) are scored exactly once, provided stride ≤ windowTokens − minContext.
    /// </summary>
    public static IReadOnlyList<TokenWindow> Plan(int tokenCount, int windowTokens, int stride, int minContext)
    {
        if (windowTokens < 1) throw new ArgumentOutOfRangeException(nameof(windowTokens));
        if (minContext < 0 || minContext >= windowTokens) throw new ArgumentOutOfRangeException(nameof(minContext));
        if (stride < 1 || stride > windowTokens - minContext) throw new ArgumentOutOfRangeException(nameof(stride), stride, $"Must be in [1, {windowTokens - minContext}].");
        var windows = new List<TokenWindow>();
        int previousEnd = 0;
        for (int begin = 0; previousEnd < tokenCount; begin += stride)
        {
            int end = Math.Min(begin + windowTokens, tokenCount);
            int scoredFrom = Math.Max(previousEnd, begin + minContext);
            if (scoredFrom >= end) break; // only possible when the text is shorter than minContext + 1
            windows.Add(new TokenWindow(begin, end, scoredFrom));
            previousEnd = end;
        }
        return windows;
    }

    /// <summary>Builds the model input of <paramref name="window"/> and the index of its first scored position.</summary>
    public static (int[] Input, int FirstScored) Input(ReadOnlySpan<int> text, TokenWindow window, int? bos)
    {
        int offset = bos is null ? 0 : 1;
        var input = new int[window.End - window.Begin + offset];
        if (bos is int b) input[0] = b;
        text[window.Begin..window.End].CopyTo(input.AsSpan(offset));
        return (input, window.ScoredFrom - window.Begin + offset);
    }
}
