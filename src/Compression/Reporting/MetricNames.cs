// MetricNames: the metric names the report and charts look for; tasks write their metrics under these.
namespace Compression.Reporting;

/// <summary>Well-known metric names. Tasks may add others; the report shows these in its headline table.</summary>
public static class MetricNames
{
    /// <summary>Token perplexity, exp(mean negative log-likelihood per token).</summary>
    public const string Perplexity = "perplexity";
    /// <summary>Bits per UTF-8 byte of the evaluated text.</summary>
    public const string BitsPerByte = "bits_per_byte";
    /// <summary>Mean KL divergence of the candidate's next-token distribution from the baseline's (nats).</summary>
    public const string KlMean = "kl_mean";
    /// <summary>Median per-token KL divergence.</summary>
    public const string KlMedian = "kl_median";
    /// <summary>99th percentile per-token KL divergence.</summary>
    public const string KlP99 = "kl_p99";
    /// <summary>Fraction of tokens whose top-1 prediction equals the baseline's.</summary>
    public const string Top1Agreement = "top1_agreement";
    /// <summary>Multiple-choice accuracy (fraction correct).</summary>
    public const string Accuracy = "acc";
    /// <summary>Length-normalised multiple-choice accuracy.</summary>
    public const string AccuracyNorm = "acc_norm";
    /// <summary>Prefill throughput, tokens per second.</summary>
    public const string PrefillTokensPerSecond = "prefill_tok_s";
    /// <summary>Decode throughput, tokens per second.</summary>
    public const string DecodeTokensPerSecond = "decode_tok_s";
    /// <summary>Decode latency, milliseconds per token.</summary>
    public const string DecodeMsPerToken = "decode_ms_per_token";
    /// <summary>Peak resident memory of the process, bytes.</summary>
    public const string PeakResidentBytes = "peak_rss_bytes";

    /// <summary>True for metrics where a larger value is better (accuracy, agreement, throughput).</summary>
    public static bool HigherIsBetter(string metric) => metric is Accuracy or AccuracyNorm or Top1Agreement
        or PrefillTokensPerSecond or DecodeTokensPerSecond;
}
