// LongRangeQuestions: "long_range" items — people introduced, 8–12 unrelated sentences, then recall of a fact.
using System.Text;
using Compression.Training.Corpus;

namespace Compression.Training.Suite;

/// <summary>
/// A long-range story as the corpus writes them (2–3 people, then 8–12 filler sentences that name no
/// one), cut at the first reference back. The value to predict was stated a hundred or more tokens
/// earlier; distractors come from the other people in the story first.
/// </summary>
internal static class LongRangeQuestions
{
    public const int Choices = 4;

    public static Question Build(ChoiceStream r)
    {
        var sb = new StringBuilder();
        Story story = StoryWriter.Introduce(r, sb, r.Range(2, 3));
        int fillers = r.Range(8, 12);
        for (int i = 0; i < fillers; i++) FillerWriter.Sentence(r, sb);
        Cloze target = StoryWriter.BackReference(r, story);
        Text.Sentence(sb, target.Prefix);
        return new Question(sb.ToString(), target.Continuation(target.Value),
            Distractors.Pick(r, target, Distractors.InStory(story, target.Kind), Choices - 1));
    }
}
