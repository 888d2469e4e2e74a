// MultipleChoiceTaskTests: acc vs acc_norm through a model, lm-eval's context/continuation split, few-shot prompts.
using Compression.Evaluation.Tasks.MultipleChoice;

namespace Compression.Tests.Evaluation.Tasks;

public class MultipleChoiceTaskTests
{
    private static MultipleChoiceSet FromText(string jsonl, string? layout = null) => MultipleChoiceSet.Read(new StringReader(jsonl), "inline.jsonl", layout);

    // ' ' and 'y' cost 1 nat each, 'x' costs 3.
    private static ByteUnigramModel Unigram() => new(new Dictionary<char, double> { [' '] = -1, ['x'] = -3, ['y'] = -1 });

    [Fact]
    public void LengthNormalisationFlipsTheAnswer()
    {
        // " x": −4 over 2 bytes; " yyyy": −5 over 5 bytes. acc picks " x" (wrong), acc_norm " yyyy" (right).
        var set = FromText("""{"id": "flip", "context": "Q:", "choices": [" x", " yyyy"], "answer": 1}""");
        var result = new MultipleChoiceTask(new MultipleChoiceOptions()).Run(Unigram(), set);
        var item = Assert.Single(result.Items);
        Assert.Equal(-4, item.LogLikelihoods[0], 5);
        Assert.Equal(-5, item.LogLikelihoods[1], 5);
        Assert.Equal([2, 5], item.ChoiceBytes);
        Assert.Equal(0, result.Acc.Successes);
        Assert.Equal(1, result.AccNorm.Successes);
        Assert.Equal("mc", result.Task);
        Assert.Equal("1.1", result.Version);
    }

    [Fact]
    public void AccNorm_UsesChoiceLengthWithoutTheDelimiter()
    {
        // PIQA-style " " + choice: choices "x" (1 byte) and "yyy" (3 bytes); sums −4 and −4 → per byte −4 vs −1.33.
        var set = FromText("""{"goal": "g", "sol1": "x", "sol2": "yyy", "label": 1}""");
        var item = new MultipleChoiceTask(new MultipleChoiceOptions()).Run(Unigram(), set).Items[0];
        Assert.Equal([1, 3], item.ChoiceBytes);
        Assert.Equal(0, item.Predicted);      // tie on −4 → first
        Assert.Equal(1, item.PredictedNorm);
    }

    [Fact]
    public void Requests_MoveTrailingSpaceAndShareTheContext()
    {
        var model = Unigram();
        var task = new MultipleChoiceTask(new MultipleChoiceOptions());
        var requests = task.Requests(model, [new ChoicePrompt("Q: ", "yes"), new ChoicePrompt("Q: ", "no")]);
        Assert.Equal(model.Encode("Q:", true), requests[0].Context);
        Assert.Equal(model.Encode(" yes", false), requests[0].Continuation);
        Assert.Same(requests[0].Context, requests[1].Context);

        var noBos = new MultipleChoiceTask(new MultipleChoiceOptions { AddBos = false }).Requests(model, [new ChoicePrompt("", "ab")]);
        Assert.Equal([256], noBos[0].Context); // an empty context falls back to BOS
        Assert.Equal(model.Encode("ab", false), noBos[0].Continuation);
    }

    [Fact]
    public void FewShot_PrependsSolvedExamplesFromTheSameFile()
    {
        var set = MultipleChoiceSet.Read(Samples.Path("mc.jsonl"));
        var task = new MultipleChoiceTask(new MultipleChoiceOptions { FewShot = 2, Seed = 5 });
        var prompts = task.Prompts(set, 0);
        string context = prompts[0].Context;
        Assert.EndsWith("\n\nTwo plus two is", context);
        var shots = context.Split("\n\n");
        Assert.Equal(3, shots.Length);
        string[] examples = ["The colour of grass is green", "Ice is cold", "Fire is hot"];
        Assert.All(shots[..2], s => Assert.Contains(s, examples));
        Assert.NotEqual(shots[0], shots[1]);
        Assert.Equal(prompts, task.Prompts(set, 0));                                                        // deterministic
        Assert.Equal(prompts, new MultipleChoiceTask(new MultipleChoiceOptions { FewShot = 2, Seed = 5 }).Prompts(set, 0));
        var seeds = Enumerable.Range(0, 20).Select(s => new MultipleChoiceTask(new MultipleChoiceOptions { FewShot = 2, Seed = s }).Prompts(set, 0)[0].Context).Distinct();
        Assert.True(seeds.Count() > 1);                                                                    // the seed matters
    }

    [Fact]
    public void FewShot_MmluDrawsFromTheSameSubjectAfterTheDescription()
    {
        var set = MultipleChoiceSet.Read(Samples.Path("mmlu.jsonl"));
        string context = new MultipleChoiceTask(new MultipleChoiceOptions { FewShot = 2 }).Prompts(set, 0)[0].Context;
        Assert.StartsWith("The following are multiple choice questions (with answers) about elementary mathematics.\n\nWhat is ", context);
        Assert.Contains("What is 3 * 3?\nA. 6\nB. 8\nC. 9\nD. 12\nAnswer: C\n\n", context);
        Assert.Contains("What is 10 - 4?\nA. 6\nB. 5\nC. 4\nD. 14\nAnswer: A\n\n", context);
        Assert.DoesNotContain("planet", context);
        Assert.Single(context.Split("What is 2 + 3?")[1..]);
    }

    [Fact]
    public void FewShot_TooManyShotsIsAnError() =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new MultipleChoiceTask(new MultipleChoiceOptions { FewShot = 4 }).Prompts(MultipleChoiceSet.Read(Samples.Path("mc.jsonl")), 0));

    [Fact]
    public void Run_ScoresEveryDocumentInBatchesAndPairsResults()
    {
        var set = MultipleChoiceSet.Read(Samples.Path("boolq.jsonl"));
        var progress = new List<long>();
        var options = new MultipleChoiceOptions { BatchDocuments = 2 };
        var result = new MultipleChoiceTask(options).Run(Unigram(), set, new Progress(progress));
        Assert.Equal(3, result.Items.Count);
        Assert.Equal([2L, 3L], progress);
        // The unigram model has no preference between " no" and " yes" beyond their letters; both runs agree with themselves.
        Assert.Equal(0, result.AccDifference(result).Mean);
        var limited = new MultipleChoiceTask(options with { Limit = 1 }).Run(Unigram(), set);
        Assert.Single(limited.Items);
        Assert.Throws<ArgumentException>(() => result.AccDifference(limited));
    }

    private sealed class Progress(List<long> done) : IProgress<Compression.Evaluation.EvaluationProgress>
    {
        public void Report(Compression.Evaluation.EvaluationProgress value) => done.Add(value.Done);
    }
}
