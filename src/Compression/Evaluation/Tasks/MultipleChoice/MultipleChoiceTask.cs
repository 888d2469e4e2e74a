// MultipleChoiceTask: prompts and log-likelihood requests for each document, then acc and acc_norm.
using System.Text;
using Compression.Evaluation.Metrics;

namespace Compression.Evaluation.Tasks.MultipleChoice;

/// <summary>
/// lm-evaluation-harness's multiple_choice scoring over a <see cref="MultipleChoiceSet"/>: for each choice,
/// ln P(continuation | description + few-shot examples + context); acc picks the largest, acc_norm the largest
/// per byte of choice text. Tokenization follows lm-eval's <c>_encode_pair</c>: trailing whitespace of the
/// context moves to the continuation, the pair is encoded whole and the continuation tokens are what follows
/// the separately encoded context. Version "1".
/// </summary>
public sealed class MultipleChoiceTask(MultipleChoiceOptions options)
{
    public const string Version = "1";

    public MultipleChoiceOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Reads <paramref name="path"/> (layout detected unless given) and evaluates it.</summary>
    public MultipleChoiceResult RunFile(ILanguageModel model, string path, string? layout = null, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(model, MultipleChoiceSet.Read(path, layout), progress, cancellationToken);

    /// <summary>The strings scored for each choice of document <paramref name="index"/>.</summary>
    public IReadOnlyList<ChoicePrompt> Prompts(MultipleChoiceSet set, int index) => Prompts(set, index, new FewShotSampler(set.Documents, Options.Seed));

    /// <summary>Tokenized requests for <paramref name="prompts"/>; choices with the same context share one context array.</summary>
    public IReadOnlyList<LogLikelihoodRequest> Requests(ILanguageModel model, IReadOnlyList<ChoicePrompt> prompts)
    {
        var contexts = new Dictionary<string, int[]>();
        var requests = new LogLikelihoodRequest[prompts.Count];
        for (int j = 0; j < prompts.Count; j++)
        {
            string context = prompts[j].Context, continuation = prompts[j].Continuation;
            int spaces = context.Length - context.TrimEnd().Length;
            if (spaces > 0) (context, continuation) = (context[..^spaces], context[^spaces..] + continuation);
            if (!contexts.TryGetValue(context, out int[]? contextTokens))
            {
                contextTokens = model.Encode(context, Options.AddBos);
                contexts[context] = contextTokens;
            }
            int[] whole = model.Encode(context + continuation, Options.AddBos);
            int[] continuationTokens = whole[Math.Min(contextTokens.Length, whole.Length)..];
            if (contextTokens.Length == 0)
            {
                // An empty context leaves the first token unpredicted; condition on BOS as lm-eval does.
                int bos = model.BosId ?? throw new ArgumentException($"Choice {j}: empty context and the model has no BOS token.");
                contextTokens = contexts[context] = [bos];
            }
            if (continuationTokens.Length == 0) throw new ArgumentException($"Choice {j}: continuation '{prompts[j].Continuation}' produced no tokens after the context.");
            requests[j] = new LogLikelihoodRequest(contextTokens, continuationTokens);
        }
        return requests;
    }

    /// <summary>Evaluates <paramref name="model"/> on <paramref name="set"/>.</summary>
    public MultipleChoiceResult Run(ILanguageModel model, MultipleChoiceSet set, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (Options.BatchDocuments < 1) throw new ArgumentException($"BatchDocuments must be positive, got {Options.BatchDocuments}.");
        if (Options.Limit is < 1) throw new ArgumentException($"Limit must be positive, got {Options.Limit}.");
        int count = Math.Min(set.Documents.Count, Options.Limit ?? int.MaxValue);
        var sampler = new FewShotSampler(set.Documents, Options.Seed);
        var items = new List<ItemScore>(count);
        for (int start = 0; start < count; start += Options.BatchDocuments)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int end = Math.Min(count, start + Options.BatchDocuments);
            var batch = new List<LogLikelihoodRequest>();
            var offsets = new List<int>();
            for (int i = start; i < end; i++)
            {
                offsets.Add(batch.Count);
                batch.AddRange(Requests(model, Prompts(set, i, sampler)));
            }
            var answers = model.LogLikelihood(batch);
            if (answers.Count != batch.Count) throw new InvalidOperationException($"The model answered {answers.Count} of {batch.Count} requests.");
            for (int i = start; i < end; i++)
            {
                var document = set.Documents[i];
                var lls = Enumerable.Range(0, document.Choices.Count).Select(j => answers[offsets[i - start] + j].SumLogProb).ToArray();
                items.Add(Score(document, lls));
            }
            progress?.Report(new EvaluationProgress(end, count, "documents"));
        }
        return new MultipleChoiceResult(set.Layout.Name, $"{Version}.{set.Layout.Version}", set.Source, Options,
            Proportion.Wilson(items.Count(i => i.Correct), items.Count),
            Proportion.Wilson(items.Count(i => i.CorrectNorm), items.Count), items);
    }

    /// <summary>acc and acc_norm picks of one document from its per-choice log-likelihoods.</summary>
    public static ItemScore Score(MultipleChoiceDocument document, IReadOnlyList<double> logLikelihoods)
    {
        if (logLikelihoods.Count != document.Choices.Count) throw new ArgumentException($"{logLikelihoods.Count} log-likelihoods for {document.Choices.Count} choices.");
        double[] lls = logLikelihoods.ToArray();
        int[] bytes = document.Choices.Select(c => Encoding.UTF8.GetByteCount(c)).ToArray();
        return new ItemScore(document.Id, document.Gold, lls, bytes,
            MultipleChoiceMetrics.Pick(lls), MultipleChoiceMetrics.PickNormalised(lls, bytes));
    }

    private IReadOnlyList<ChoicePrompt> Prompts(MultipleChoiceSet set, int index, FewShotSampler sampler)
    {
        var document = set.Documents[index];
        var prefix = new StringBuilder(document.Description);
        foreach (int shot in sampler.Sample(index, Options.FewShot))
            prefix.Append(set.Documents[shot].Example).Append("\n\n");
        return Enumerable.Range(0, document.Choices.Count)
            .Select(j => new ChoicePrompt(prefix + document.Contexts[j], document.Continuation(j)))
            .ToArray();
    }
}
