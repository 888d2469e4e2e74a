// PerplexityResult: what a perplexity run measured, per window and in total.
using Compression.Evaluation.Metrics;

namespace Compression.Evaluation.Tasks.Perplexity;

/// <summary>NLL summed over one window's scored tokens (text-token indices as in <see cref="TokenWindow"/>).</summary>
public sealed record WindowScore(TokenWindow Window, double Nll);

/// <summary>
/// Token perplexity and bits per byte over the scored tokens. <see cref="Perplexity"/> = exp(mean NLL);
/// its interval is exp of the NLL mean's interval. <see cref="BitsPerByte"/> divides the total NLL in bits
/// by <see cref="BytesScored"/>, the UTF-8 bytes the scored tokens spell.
/// </summary>
public sealed record PerplexityResult(
    string Task,
    string Version,
    WindowOptions Options,
    long TokensScored,
    long BytesScored,
    double TotalNll,
    MeanEstimate NllPerToken,
    double Perplexity,
    double PerplexityLower,
    double PerplexityUpper,
    double BitsPerByte,
    IReadOnlyList<WindowScore> Windows);
