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
    /// <summary>Peak resident memory sampled while the throughput runs ran (one engine's share of the process peak), bytes.</summary>
    public const string RunPeakResidentBytes = "run_peak_rss_bytes";
    /// <summary>Peak anonymous resident memory (RssAnon: allocations, not mapped files) sampled during the runs, bytes.</summary>
    public const string PeakAnonymousBytes = "peak_anon_bytes";
    /// <summary>Weight bytes one decoded token reads (every matmul weight, the norms, one embedding row).</summary>
    public const string WeightBytesPerToken = "weight_bytes_per_token";
    /// <summary>This machine's measured read bandwidth (bytes/s) the roofline uses.</summary>
    public const string ReadBandwidth = "read_bandwidth_bytes_s";
    /// <summary>Decode roofline: read bandwidth ÷ weight bytes per token, tokens/s.</summary>
    public const string RooflineTokensPerSecond = "roofline_tok_s";
    /// <summary>Decode tokens/s as a fraction of the roofline.</summary>
    public const string RooflineFraction = "roofline_fraction";

    /// <summary>True for metrics where a larger value is better (accuracy, agreement, throughput).</summary>
    public static bool HigherIsBetter(string metric) => metric is Accuracy or AccuracyNorm or Top1Agreement
        or PrefillTokensPerSecond or DecodeTokensPerSecond or RooflineFraction;
}
