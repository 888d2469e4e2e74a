// CountingQuestions: "counting" items — a count run cut before its last number ("Counting from 3 to 7: 3, 4, 5, 6," → " 7.").
using System.Text;
using Compression.Training.Corpus;

namespace Compression.Training.Suite;

/// <summary>
/// The corpus's counting runs (<see cref="ArithmeticWriter.Count"/>), optionally after an arithmetic fact, cut before
/// the final number; distractors are the numbers within ±3. Solvable from the run itself or from its stated end.
/// </summary>
internal static class CountingQuestions
{
    public const int Choices = 4;

    public static Question Build(ChoiceStream r)
    {
        var sb = new StringBuilder();
        if (r.Flip()) ArithmeticWriter.Fact(r, sb);
        int from = r.Range(0, 12), length = r.Range(3, 6);
        int to = from + length - 1;
        Text.Sentence(sb, $"Counting from {from} to {to}:");
        for (int i = from; i < to; i++) sb.Append(' ').Append(i).Append(',');
        var target = new Cloze("", SlotKind.Number, to.ToString(System.Globalization.CultureInfo.InvariantCulture), ".");
        return new Question(sb.ToString(), target.Continuation(target.Value), Distractors.Near(r, target, Choices - 1));
    }
}
