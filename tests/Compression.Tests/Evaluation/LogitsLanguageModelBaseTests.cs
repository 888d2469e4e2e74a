// LogitsLanguageModelBaseTests: continuation log-likelihoods, greediness, left truncation and rolling rows from a bigram table.
using Compression.Evaluation;

namespace Compression.Tests.Evaluation;

public class LogitsLanguageModelBaseTests
{
    [Fact]
    public void LogLikelihood_SumsTheBigramTable()
    {
        var model = CharModel.Bigram();
        int[] context = model.Encode("a", addBos: true);           // [BOS, a]
        var requests = new[]
        {
            new LogLikelihoodRequest(context, model.Encode("ba", false)), // P(b|a) P(a|b) = .8 · .6, both argmax
            new LogLikelihoodRequest(context, model.Encode("a", false)),  // P(a|a) = .1, not argmax
        };
        var answers = model.LogLikelihood(requests);
        Assert.Equal(Math.Log(0.8 * 0.6), answers[0].SumLogProb, 6);
        Assert.True(answers[0].IsGreedy);
        Assert.Equal(2, answers[0].Tokens);
        Assert.Equal(Math.Log(0.1), answers[1].SumLogProb, 6);
        Assert.False(answers[1].IsGreedy);
    }

    [Fact]
    public void LogLikelihood_OneTokenChoicesOnASharedContextCostOnePass()
    {
        var model = CharModel.Bigram();
        int[] context = model.Encode("ab", addBos: true);
        var answers = model.LogLikelihood([new(context, [0]), new(context, [1]), new(context, [2])]);
        Assert.Single(model.Calls);
        Assert.Equal(1.0, answers.Sum(a => Math.Exp(a.SumLogProb)), 5); // a full row: .6 + .2 + .2
    }

    [Fact]
    public void LogLikelihood_TruncatesTheContextFromTheLeft()
    {
        var model = CharModel.Bigram(maxContext: 3);
        var answer = model.LogLikelihood([new(model.Encode("abab", true), model.Encode("ba", false))]);
        Assert.Equal([0, 1, 1], model.Calls[0]);                     // last 3 of BOS a b a b b, minus the final a
        Assert.Equal(Math.Log(0.2 * 0.6), answer[0].SumLogProb, 6);   // P(b|b) P(a|b)
    }

    [Fact]
    public void GroupByContext_GroupsByContent()
    {
        var requests = new LogLikelihoodRequest[] { new([1, 2], [3]), new([4], [3]), new([1, 2], [5]) };
        var groups = LogLikelihoodRequest.GroupByContext(requests);
        Assert.Equal(2, groups.Count);
        Assert.Equal([0, 2], groups[0]);
        Assert.Equal([1], groups[1]);
    }

    [Fact]
    public void ScoreTokens_HandsOutEachPredictingRow()
    {
        var model = CharModel.Bigram();
        var rows = new List<(int Position, int Token, float[] Row)>();
        model.ScoreTokens(model.Encode("abb", true), 2, new Sink((p, t, r) => rows.Add((p, t, r.ToArray()))));
        Assert.Equal([2, 3], rows.Select(r => r.Position));
        Assert.Equal(Math.Log(0.8), rows[0].Row[1], 6);   // b after a
        Assert.Equal(Math.Log(0.6), rows[1].Row[0], 6);   // row after b
        Assert.Equal(1, rows[1].Token);
    }

    [Fact]
    public void RequestsNeedAContext() =>
        Assert.Throws<ArgumentException>(() => new LogLikelihoodRequest([], [1]));

    internal sealed class Sink(Action<int, int, ReadOnlySpan<float>> accept) : ITokenScoreSink
    {
        public void Accept(int position, int actualToken, ReadOnlySpan<float> logProbs) => accept(position, actualToken, logProbs);
    }
}
