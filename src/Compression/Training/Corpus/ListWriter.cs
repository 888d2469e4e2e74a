// ListWriter: enumerations of objects and colours followed by statements about their length and order.
using System.Text;

namespace Compression.Training.Corpus;

/// <summary>
/// Writes lists ("The basket holds a cup, a pen and a bell.") followed by determined statements about
/// them: how many things there are, which one is in a given position, or who bought them.
/// </summary>
internal static class ListWriter
{
    /// <summary>A document of 1–3 lists (more while it carries under <see cref="CorpusGenerator.MinDocumentBits"/>), each followed by 1–2 statements about it.</summary>
    public static void Write(ChoiceStream r, StringBuilder sb)
    {
        int lists = r.Range(1, 3);
        for (int i = 0; i < lists || r.Bits < CorpusGenerator.MinDocumentBits; i++)
        {
            IReadOnlyList<Cloze> follow = List(r, sb, people: true);
            // One or both follow-ups, in either order (never the same one twice).
            Span<int> order = stackalloc int[r.Range(1, 2)];
            r.Distinct(follow.Count, order);
            foreach (int j in order) follow[j].WriteTo(sb);
        }
    }

    /// <summary>A lone list sentence that names no person (used as filler).</summary>
    public static void Sentence(ChoiceStream r, StringBuilder sb) => List(r, sb, people: false);

    /// <summary>Writes one list and returns the statements that can follow it.</summary>
    internal static IReadOnlyList<Cloze> List(ChoiceStream r, StringBuilder sb, bool people)
    {
        int count = r.Range(2, 5);
        Span<int> picks = stackalloc int[count];
        switch (r.Next(people ? 3 : 2))
        {
            case 0:
            {
                r.Distinct(Lexicon.Objects.Length, picks);
                string[] items = Pick(Lexicon.Objects, picks);
                string place = r.Pick(Lexicon.Containers);
                Text.Sentence(sb, $"The {place} holds {Text.List(items, articles: true)}.");
                int k = r.Next(count);
                return
                [
                    new Cloze("There are", SlotKind.Number, count.ToString(), $" things in the {place}."),
                    new Cloze($"The {Lexicon.Ordinals[k]} thing in the {place} is a", SlotKind.Object, items[k], "."),
                ];
            }
            case 1:
            {
                r.Distinct(Lexicon.Colours.Length, picks);
                string[] colours = Pick(Lexicon.Colours, picks);
                Text.Sentence(sb, $"The colours of the flag are {Text.List(colours, articles: false)}.");
                int k = r.Next(count);
                return
                [
                    new Cloze("The flag has", SlotKind.Number, count.ToString(), " colours."),
                    new Cloze($"The {Lexicon.Ordinals[k]} colour is", SlotKind.Colour, colours[k], "."),
                ];
            }
            default:
            {
                string name = r.Pick(Lexicon.Names);
                r.Distinct(Lexicon.Objects.Length, picks);
                string[] items = Pick(Lexicon.Objects, picks);
                Text.Sentence(sb, $"{name} bought {Text.List(items, articles: true)}.");
                int k = r.Next(count);
                return
                [
                    new Cloze($"So {name} bought", SlotKind.Number, count.ToString(), " things."),
                    new Cloze($"The {Lexicon.Ordinals[k]} thing {name} bought was a", SlotKind.Object, items[k], "."),
                ];
            }
        }
    }

    private static string[] Pick(string[] words, ReadOnlySpan<int> indices)
    {
        var result = new string[indices.Length];
        for (int i = 0; i < indices.Length; i++) result[i] = words[indices[i]];
        return result;
    }
}
