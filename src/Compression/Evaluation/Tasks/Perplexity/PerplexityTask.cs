// PerplexityTask: rolling token perplexity and bits per byte of a model over a raw text (e.g. WikiText-2 wiki.test.raw).
using Compression.Evaluation.Metrics;

namespace Compression.Evaluation.Tasks.Perplexity;

/// <summary>
/// Tokenizes the whole text once (no BOS), cuts it into windows per <see cref="WindowOptions"/> and sums the NLL
/// of every scored token. Version "1": windowing as documented on <see cref="WindowOptions"/>.
/// </summary>
public sealed class PerplexityTask(WindowOptions options)
{
    public const string Name = "perplexity";
    public const string Version = "1";

    public WindowOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Reads <paramref name="path"/> as UTF-8 (a leading byte-order mark is dropped) and evaluates it.</summary>
    public PerplexityResult RunFile(ILanguageModel model, string path, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        string text = File.ReadAllText(Compression.IO.InputFile.CheckReadable(path, int.MaxValue, "a text file").Resolved, System.Text.Encoding.UTF8);
        if (text.Length == 0) throw new InvalidDataException($"{path}: the file is empty.");
        return Run(model, text, progress, cancellationToken);
    }

    /// <summary>Evaluates <paramref name="model"/> on <paramref name="text"/>.</summary>
    public PerplexityResult Run(ILanguageModel model, string text, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var options = Options.For(model);
        int? bos = options.Validate(model);
        var plan = TextWindows.Plan(model, text, options, bos);
        long total = plan.ScoredTokens;

        var sink = new NllSink();
        var scores = new List<WindowScore>(plan.Windows.Count);
        foreach (var window in plan.Windows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double before = sink.Total;
            model.ScoreTokens(window.Input, window.FirstScored, sink);
            scores.Add(new WindowScore(window.Window, sink.Total - before));
            progress?.Report(new EvaluationProgress(sink.Nlls.Count, total, "tokens"));
        }
        if (sink.Nlls.Count != total) throw new InvalidOperationException($"The model scored {sink.Nlls.Count} tokens, expected {total}.");

        FiniteMetric.Require(sink.Total, "the summed negative log-likelihood", Name);
        long bytes = plan.ScoredBytes;
        var nll = MeanEstimate.From(sink.Nlls);
        return new PerplexityResult(Name, Version, options, total, bytes, sink.Total, nll,
            PerplexityMetrics.Perplexity(sink.Total, total), Math.Exp(nll.Lower), Math.Exp(nll.Upper),
            PerplexityMetrics.BitsPerByte(sink.Total, bytes), scores);
    }

    private sealed class NllSink : ITokenScoreSink
    {
        public readonly List<double> Nlls = [];
        public double Total;

        public void Accept(int position, int actualToken, ReadOnlySpan<float> logProbs)
        {
            double nll = -logProbs[actualToken];
            Nlls.Add(nll);
            Total += nll;
        }
    }
}
