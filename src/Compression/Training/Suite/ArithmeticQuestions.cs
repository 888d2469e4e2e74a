// ArithmeticQuestions: "arithmetic" items — sums, differences, products, word problems and story transfers.
using System.Text;
using Compression.Training.Corpus;

namespace Compression.Training.Suite;

/// <summary>
/// Up to three arithmetic facts, then a fact cut before its result ("7 plus 5 is" → " 12."), or a story
/// in which one person gives goods to another, cut at "Now A has" (recall plus subtraction). Distractors
/// are the numbers within ±3 of the result.
/// </summary>
internal static class ArithmeticQuestions
{
    public const int Choices = 4;

    public static Question Build(ChoiceStream r)
    {
        var sb = new StringBuilder();
        Cloze target;
        int type = r.Weighted([3, 3, 2, 2, 2]);
        if (type == 4)
        {
            target = Transfer(r, sb);
        }
        else
        {
            int before = r.Range(0, 3);
            for (int i = 0; i < before; i++) ArithmeticWriter.Fact(r, sb);
            target = type switch
            {
                0 => ArithmeticWriter.Sum(r),
                1 => ArithmeticWriter.Difference(r),
                2 => ArithmeticWriter.Product(r),
                _ => ArithmeticWriter.WordProblem(r),
            };
        }
        Text.Sentence(sb, target.Prefix);
        return new Question(sb.ToString(), target.Continuation(target.Value), Distractors.Near(r, target, Choices - 1));
    }

    // Redraws the introduction until two people count goods (about half of stories qualify), then writes a transfer.
    private static Cloze Transfer(ChoiceStream r, StringBuilder sb)
    {
        while (true)
        {
            sb.Clear();
            Story story = StoryWriter.Introduce(r, sb, r.Range(2, 4));
            if (StoryWriter.CanTransfer(story)) return StoryWriter.Transfer(r, sb, story)[0];
        }
    }
}
