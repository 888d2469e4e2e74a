// PerplexityMetrics: perplexity and bits per byte from summed negative log-likelihoods.
namespace Compression.Evaluation.Metrics;

/// <summary>Pure conversions from summed natural-log NLL to the figures reports quote.</summary>
public static class PerplexityMetrics
{
    /// <summary>Token perplexity exp(totalNll / tokens); <paramref name="totalNll"/> in nats.</summary>
    public static double Perplexity(double totalNll, long tokens)
    {
        if (tokens <= 0) throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "At least one scored token is needed.");
        return Math.Exp(totalNll / tokens);
    }

    /// <summary>
    /// Bits per byte: totalNll / ln 2 / <paramref name="bytes"/>, where <paramref name="bytes"/> is the UTF-8 length
    /// of exactly the text the scored tokens spell. Independent of the tokenizer, so models with different vocabularies compare.
    /// </summary>
    public static double BitsPerByte(double totalNll, long bytes)
    {
        if (bytes <= 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "At least one scored byte is needed.");
        return totalNll / Math.Log(2) / bytes;
    }
}
