// Distractors: wrong continuations for a cloze — values of the same kind, preferring ones the context itself mentions.
using Compression.Training.Corpus;

namespace Compression.Training.Suite;

/// <summary>
/// Builds wrong answers of the same type as the right one. Values that occur in the context come first,
/// so a model cannot win by rejecting words it has not seen; it has to bind the value to the right person.
/// </summary>
internal static class Distractors
{
    /// <summary>
    /// <paramref name="count"/> distinct wrong continuations of <paramref name="cloze"/>: values from
    /// <paramref name="inContext"/> (in random order) then from the kind's full pool, skipping the true value.
    /// </summary>
    public static List<string> Pick(ChoiceStream r, Cloze cloze, IEnumerable<string> inContext, int count)
    {
        var values = new List<string>(count);
        Take(r, inContext.Distinct().ToList(), cloze.Value, values, count);
        Take(r, Pool(cloze.Kind), cloze.Value, values, count);
        if (values.Count < count) throw new InvalidOperationException($"only {values.Count} distractors for {cloze.Kind} '{cloze.Value}'");
        return values.Select(cloze.Continuation).ToList();
    }

    /// <summary><paramref name="count"/> distinct numbers within ±3 of the true (numeric) value, never negative.</summary>
    public static List<string> Near(ChoiceStream r, Cloze cloze, int count)
    {
        int answer = int.Parse(cloze.Value, System.Globalization.CultureInfo.InvariantCulture);
        var near = new List<string>();
        for (int d = -3; d <= 3; d++)
            if (d != 0 && answer + d >= 0) near.Add((answer + d).ToString());
        var values = new List<string>(count);
        Take(r, near, cloze.Value, values, count);
        return values.Select(cloze.Continuation).ToList();
    }

    // Values a story has stated for the slot's kind.
    public static IEnumerable<string> InStory(Story story, SlotKind kind) => story.Entities.Select(e => kind switch
    {
        SlotKind.Colour => e.Colour,
        SlotKind.Animal => e.Animal,
        SlotKind.City => e.City,
        SlotKind.Job => e.Job,
        SlotKind.Name => e.Name,
        SlotKind.Count => e.Count?.ToString(),
        _ => null,
    }).OfType<string>();

    // Values a record table holds for the slot's kind.
    public static IEnumerable<string> InTable(IReadOnlyList<PersonRecord> table, SlotKind kind) => table.Select(p => kind switch
    {
        SlotKind.Age => p.Age.ToString(),
        SlotKind.City => p.City,
        SlotKind.Job => p.Job,
        SlotKind.Name => p.Name,
        _ => null,
    }).OfType<string>();

    private static readonly string[] Counts = Enumerable.Range(1, 12).Select(i => i.ToString()).ToArray();
    private static readonly string[] Ages = Enumerable.Range(18, 62).Select(i => i.ToString()).ToArray();

    private static IReadOnlyList<string> Pool(SlotKind kind) => kind switch
    {
        SlotKind.Colour => Lexicon.Colours,
        SlotKind.Animal => Lexicon.Animals,
        SlotKind.City => Lexicon.Cities,
        SlotKind.Job => Lexicon.Jobs,
        SlotKind.Name => Lexicon.Names,
        SlotKind.Count => Counts,
        SlotKind.Age => Ages,
        SlotKind.Object => Lexicon.Objects,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no value pool for this kind"),
    };

    // Moves up to (count − values.Count) random members of source, other than answer and not yet taken, into values.
    private static void Take(ChoiceStream r, IReadOnlyList<string> source, string answer, List<string> values, int count)
    {
        var candidates = source.Where(v => v != answer && !values.Contains(v)).ToList();
        r.Shuffle(candidates);
        foreach (string v in candidates)
        {
            if (values.Count == count) return;
            values.Add(v);
        }
    }
}
