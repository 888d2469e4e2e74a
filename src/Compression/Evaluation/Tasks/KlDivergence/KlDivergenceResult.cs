// KlDivergenceResult: how far a candidate's next-token distributions are from the baseline's, as llama.cpp reports it.
using Compression.Evaluation.Metrics;

namespace Compression.Evaluation.Tasks.KlDivergence;

/// <summary>
/// Per-token KL(P_base ‖ P_cand) summarised (<see cref="Kl"/>: mean ± stderr, median, 90/95/99/99.9th
/// percentiles, min, max), the share of positions where both models' top token agrees
/// (<see cref="SameTop"/>, Wilson interval), both perplexities on the same tokens and their ratio, the
/// paired mean of ln PPL(cand)/PPL(base) = mean(NLL_cand − NLL_base), and Δp = mean of
/// p_cand(actual) − p_base(actual) with its RMS.
/// </summary>
public sealed record KlDivergenceResult(
    string Task,
    string Version,
    WindowOptions Options,
    long TokensScored,
    DistributionSummary Kl,
    Proportion SameTop,
    double BaselinePerplexity,
    double CandidatePerplexity,
    double PerplexityRatio,
    MeanEstimate LnPerplexityRatio,
    MeanEstimate DeltaP,
    double RmsDeltaP);
