// ListCountQuestions: "list_count" items — a list, then how many things it holds ("The box holds a cup, a pen and a bell. There are" → " 3 things in the box.").
using System.Text;
using Compression.Training.Corpus;

namespace Compression.Training.Suite;

/// <summary>
/// One of the corpus's lists (<see cref="ListWriter"/>) followed by its count statement cut before the number;
/// distractors are the counts within ±3. The answer is in the list just read, so context is needed but no binding.
/// </summary>
internal static class ListCountQuestions
{
    public const int Choices = 4;

    public static Question Build(ChoiceStream r)
    {
        var sb = new StringBuilder();
        var target = ListWriter.List(r, sb, people: r.Flip())[0]; // the count statement
        Text.Sentence(sb, target.Prefix);
        return new Question(sb.ToString(), target.Continuation(target.Value), Distractors.Near(r, target, Choices - 1));
    }
}
