// KlDivergenceTask: candidate vs baseline on the same windows, both run side by side, no logits written to disk.
using Compression.Evaluation.Metrics;

namespace Compression.Evaluation.Tasks.KlDivergence;

/// <summary>
/// Runs the baseline on a window, holding its log-probability rows for that window's scored positions in memory
/// (scored tokens × vocabulary floats — 263 MB for 512 positions of a 128,256-token vocabulary), then runs the
/// candidate on the same window and compares row by row. Windowing as in <see cref="WindowOptions"/>; both
/// models must share the tokenizer (the text is tokenized with the baseline's). Version "1".
/// </summary>
public sealed class KlDivergenceTask(WindowOptions options)
{
    public const string Name = "kl-divergence";
    public const string Version = "1";

    public WindowOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Reads <paramref name="path"/> as UTF-8 and compares the models on it.</summary>
    public KlDivergenceResult RunFile(ILanguageModel baseline, ILanguageModel candidate, string path, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        string text = File.ReadAllText(Compression.IO.InputFile.CheckReadable(path, int.MaxValue, "a text file").Resolved, System.Text.Encoding.UTF8);
        if (text.Length == 0) throw new InvalidDataException($"{path}: the file is empty.");
        return Run(baseline, candidate, text, progress, cancellationToken);
    }

    /// <summary>Compares <paramref name="candidate"/> against <paramref name="baseline"/> on <paramref name="text"/>.</summary>
    public KlDivergenceResult Run(ILanguageModel baseline, ILanguageModel candidate, string text, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        if (baseline.VocabSize != candidate.VocabSize)
            throw new ArgumentException($"Vocabulary sizes differ (baseline {baseline.VocabSize}, candidate {candidate.VocabSize}); KL divergence needs the same tokens.");
        if (baseline.BosId != candidate.BosId) throw new ArgumentException("BOS ids differ between baseline and candidate.");
        var options = Options.For(baseline);
        int? bos = options.Validate(baseline);
        options.Validate(candidate);

        var plan = TextWindows.Plan(baseline, text, options, bos);
        long total = plan.ScoredTokens;

        var baseSink = new RowBuffer(baseline.VocabSize);
        var compare = new CompareSink(baseSink);
        foreach (var (input, firstScored, window) in plan.Windows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            baseSink.Start(firstScored, window.Scored);
            baseline.ScoreTokens(input, firstScored, baseSink);
            if (baseSink.Filled != window.Scored) throw new InvalidOperationException($"Baseline scored {baseSink.Filled} positions, expected {window.Scored}.");
            cancellationToken.ThrowIfCancellationRequested();
            int before = compare.Kl.Count;
            candidate.ScoreTokens(input, firstScored, compare);
            if (compare.Kl.Count - before != window.Scored) throw new InvalidOperationException($"Candidate scored {compare.Kl.Count - before} positions, expected {window.Scored}.");
            progress?.Report(new EvaluationProgress(compare.Kl.Count, total, "tokens"));
        }

        double baseNll = FiniteMetric.Require(compare.BaseNll.Sum(), "the baseline's summed negative log-likelihood", Name);
        double candNll = FiniteMetric.Require(compare.CandNll.Sum(), "the candidate's summed negative log-likelihood", Name);
        FiniteMetric.Require(compare.Kl.Sum(), "the KL divergence", Name);
        double basePpl = PerplexityMetrics.Perplexity(baseNll, total), candPpl = PerplexityMetrics.Perplexity(candNll, total);
        double rms = Math.Sqrt(compare.DeltaP.Sum(d => d * d) / total);
        return new KlDivergenceResult(Name, Version, options, total,
            DistributionSummary.From(compare.Kl),
            Proportion.Wilson(compare.SameTop, total),
            basePpl, candPpl, candPpl / basePpl,
            MeanEstimate.PairedDifference(compare.CandNll, compare.BaseNll),
            MeanEstimate.From(compare.DeltaP), rms);
    }

    /// <summary>Holds one window's baseline rows, indexed by position − firstScored.</summary>
    private sealed class RowBuffer(int vocab) : ITokenScoreSink
    {
        private float[] _rows = [];
        public int Vocab { get; } = vocab;
        public int FirstScored { get; private set; }
        public int Filled { get; private set; }

        public void Start(int firstScored, int count)
        {
            long needed = (long)count * Vocab;
            if (needed > Array.MaxLength) throw new ArgumentException($"A window of {count} scored positions × {Vocab} vocabulary does not fit one buffer; use a shorter context.");
            if (_rows.Length < needed) _rows = new float[needed];
            FirstScored = firstScored;
            Filled = 0;
        }

        public void Accept(int position, int actualToken, ReadOnlySpan<float> logProbs)
        {
            if (logProbs.Length != Vocab) throw new InvalidOperationException($"Row of {logProbs.Length} values, expected {Vocab}.");
            logProbs.CopyTo(_rows.AsSpan((position - FirstScored) * Vocab, Vocab));
            Filled++;
        }

        public ReadOnlySpan<float> Row(int position) => _rows.AsSpan((position - FirstScored) * Vocab, Vocab);
    }

    private sealed class CompareSink(RowBuffer baseline) : ITokenScoreSink
    {
        public readonly List<double> Kl = [], BaseNll = [], CandNll = [], DeltaP = [];
        public long SameTop;

        public void Accept(int position, int actualToken, ReadOnlySpan<float> logProbs)
        {
            var p = baseline.Row(position);
            Kl.Add(KlDivergenceMetrics.Compute(p, logProbs));
            if (KlDivergenceMetrics.SameTop(p, logProbs)) SameTop++;
            BaseNll.Add(-p[actualToken]);
            CandNll.Add(-logProbs[actualToken]);
            DeltaP.Add(Math.Exp(logProbs[actualToken]) - Math.Exp(p[actualToken]));
        }
    }
}
