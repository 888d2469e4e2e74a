// LongRangeQuestions: "long_range" items — people introduced, 8–12 unrelated sentences, then recall of a fact.
using System.Text;
using Compression.Training.Corpus;

namespace Compression.Training.Suite;

/// <summary>
/// A long-range story as the corpus writes them (3 people, then 8–12 filler sentences that name no
/// one), cut at the first reference back. The value to predict was stated a hundred or more tokens
/// earlier; two distractors are the other people's values, redrawing the story until all three people
/// hold distinct values of the asked kind.
/// </summary>
internal static class LongRangeQuestions
{
    public const int Choices = 4;

    public static Question Build(ChoiceStream r)
    {
        var sb = new StringBuilder();
        Story story;
        Cloze target;
        // Redrawn until all three people hold distinct values of the asked kind (as in RecallQuestions).
        do
        {
            sb.Clear();
            story = StoryWriter.Introduce(r, sb, 3);
            int fillers = r.Range(8, 12);
            for (int i = 0; i < fillers; i++) FillerWriter.Sentence(r, sb);
            target = StoryWriter.BackReference(r, story);
        } while (Distractors.InStory(story, target.Kind).Distinct().Count() < 3);
        Text.Sentence(sb, target.Prefix);
        return new Question(sb.ToString(), target.Continuation(target.Value),
            Distractors.Pick(r, target, Distractors.InStory(story, target.Kind), Choices - 1));
    }
}
