// RecallQuestions: "recall" items — a short story or record table, then a sentence that restates one stated fact.
using System.Text;
using Compression.Training.Corpus;

namespace Compression.Training.Suite;

/// <summary>
/// Half the items are stories (3–4 people, up to two filler sentences, up to one earlier reference),
/// half are record tables of 3–5 rows (up to one earlier read-back); the item ends where the corpus's
/// reference sentence would state the value ("Mira's fox is" → " red."). Three distractors of the same
/// kind, taken first from other people in the same context; stories are redrawn until at least three
/// people hold distinct values of the asked kind, so a "pick any value the context mentions" heuristic
/// is held near chance (a copy baseline is measured in the tests).
/// </summary>
internal static class RecallQuestions
{
    public const int Choices = 4;

    public static Question Build(ChoiceStream r)
    {
        var sb = new StringBuilder();
        Cloze target;
        IEnumerable<string> seen;
        if (r.Flip())
        {
            // Redrawn until three people hold distinct values of the asked kind, so at most one distractor
            // is a value the context never mentions (see the class remarks).
            do
            {
                sb.Clear();
                Story story = StoryWriter.Introduce(r, sb, r.Range(3, 4));
                int fillers = r.Range(0, 2);
                for (int i = 0; i < fillers; i++) FillerWriter.Sentence(r, sb);
                if (r.Flip()) StoryWriter.BackReference(r, story).WriteTo(sb);
                target = StoryWriter.BackReference(r, story);
                seen = Distractors.InStory(story, target.Kind).Distinct().ToList();
            } while (seen.Count() < 3);
        }
        else
        {
            IReadOnlyList<PersonRecord> table = RecordWriter.Table(r, sb);
            sb.Append('\n');
            if (r.Flip()) RecordWriter.Query(r, table).WriteTo(sb);
            target = RecordWriter.Query(r, table);
            seen = Distractors.InTable(table, target.Kind);
        }
        Text.Sentence(sb, target.Prefix);
        return new Question(sb.ToString(), target.Continuation(target.Value), Distractors.Pick(r, target, seen, Choices - 1));
    }
}
