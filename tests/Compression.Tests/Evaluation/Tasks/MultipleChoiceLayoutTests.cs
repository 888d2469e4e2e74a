// MultipleChoiceLayoutTests: every layout's sample file is detected and renders lm-evaluation-harness's prompt strings.
using Compression.Evaluation.Tasks.MultipleChoice;
using Compression.Evaluation.Tasks.MultipleChoice.Layouts;

namespace Compression.Tests.Evaluation.Tasks;

public class MultipleChoiceLayoutTests
{
    private static readonly MultipleChoiceTask ZeroShot = new(new MultipleChoiceOptions());

    private static (MultipleChoiceSet Set, IReadOnlyList<ChoicePrompt> Prompts) First(string file, string layout, int index = 0)
    {
        var set = MultipleChoiceSet.Read(Samples.Path(file));
        Assert.Equal(layout, set.Layout.Name);
        Assert.Equal(set, MultipleChoiceSet.Read(Samples.Path(file), layout) with { Documents = set.Documents });
        return (set, ZeroShot.Prompts(set, index));
    }

    private static void AssertShared(IReadOnlyList<ChoicePrompt> prompts, string context, params string[] continuations)
    {
        Assert.All(prompts, p => Assert.Equal(context, p.Context));
        Assert.Equal(continuations, prompts.Select(p => p.Continuation));
    }

    [Fact]
    public void HellaSwag_PreprocessesLikeLmEval()
    {
        var (set, prompts) = First("hellaswag.jsonl", "hellaswag");
        AssertShared(prompts, "Baking cookies: A woman slides a tray into the oven. Then she",
            " closes the door and sets a timer.", " throws the tray. out of the window.", " starts singing to the dough.", " paints the oven blue.");
        Assert.Equal("7", set.Documents[0].Id);
        Assert.Equal(0, set.Documents[1].Gold); // integer label accepted too
    }

    [Fact]
    public void HellaSwag_PreprocessAndCapitalize()
    {
        Assert.Equal("Intro. Then text", HellaSwagLayout.Preprocess("  Intro [title] Then [step] text "));
        Assert.Equal("Then she", HellaSwagLayout.Capitalize("tHEN SHE"));
    }

    [Fact]
    public void Arc_QuestionAnswerPromptAndAnswerKeys()
    {
        var (set, prompts) = First("arc.jsonl", "arc");
        AssertShared(prompts, "Question: Which of these is a source of light?\nAnswer:", " a rock", " the Sun", " a spoon", " a shadow");
        Assert.Equal([1, 0, 1], set.Documents.Select(d => d.Gold));   // "B"; "1" among labels "1".."4"; "2" with letter labels
        Assert.Equal("Toy_1", set.Documents[0].Id);
        Assert.Equal(3, set.Documents[2].Choices.Count);
    }

    [Fact]
    public void Piqa_GoalAsQuestion()
    {
        var (set, _) = First("piqa.jsonl", "piqa");
        AssertShared(ZeroShot.Prompts(set, 1), "Question: Dry wet shoes\nAnswer:", " Fill them with ice.", " Stuff them with newspaper.");
        Assert.Equal(1, set.Documents[1].Gold);
    }

    [Fact]
    public void WinoGrande_PartialScoring()
    {
        var (set, prompts) = First("winogrande.jsonl", "winogrande");
        Assert.Equal(["The cup did not fit in the box because the cup", "The cup did not fit in the box because the box"], prompts.Select(p => p.Context));
        Assert.All(prompts, p => Assert.Equal(" was too big.", p.Continuation));
        Assert.Equal([0, 1], set.Documents.Select(d => d.Gold));
        Assert.Equal("Anna lent Maria a pen because Maria", ZeroShot.Prompts(set, 1)[1].Context);
    }

    [Fact]
    public void Mmlu_LetterPromptWithSubjectDescription()
    {
        var (set, prompts) = First("mmlu.jsonl", "mmlu");
        AssertShared(prompts,
            "The following are multiple choice questions (with answers) about elementary mathematics.\n\n" +
            "What is 2 + 3?\nA. 4\nB. 5\nC. 6\nD. 7\nAnswer:",
            " A", " B", " C", " D");
        Assert.Equal([1, 2, 0, 0], set.Documents.Select(d => d.Gold)); // int 1, letter "C", int 0, int 0
        Assert.Equal("astronomy", set.Documents[2].Group);
    }

    [Fact]
    public void BoolQ_PassageQuestionYesNo()
    {
        var (set, prompts) = First("boolq.jsonl", "boolq");
        AssertShared(prompts, "The Moon is Earth's only natural satellite.\nQuestion: is the moon a planet?\nAnswer:", " no", " yes");
        Assert.Equal([0, 1, 1], set.Documents.Select(d => d.Gold)); // false, true, label 1
        Assert.Equal("3", set.Documents[2].Id);
    }

    [Fact]
    public void Generic_ContextAndChoicesExactlyAsGiven()
    {
        var (set, prompts) = First("mc.jsonl", "mc");
        AssertShared(prompts, "Two plus two is", " four", " five");
        Assert.Equal("syn-2", set.Documents[1].Id);
    }

    [Fact]
    public void LayoutNamesResolve()
    {
        Assert.Equal("arc", MultipleChoiceLayouts.Get("ARC_Challenge").Name);
        Assert.Throws<ArgumentException>(() => MultipleChoiceLayouts.Get("squad"));
        Assert.Equal(MultipleChoiceLayouts.All.Count, MultipleChoiceLayouts.All.Select(l => l.Name).Distinct().Count());
    }
}
