// ArithmeticWriter: small sums, differences, products, word problems, counting runs and comparisons.
using System.Text;

namespace Compression.Training.Corpus;

/// <summary>
/// Writes arithmetic facts whose result is determined by the operands ("7 plus 5 is 12."), word
/// problems that restate a count ("Ola had 5 eggs and gave away 2, so Ola has 3 left."), counting runs
/// and comparisons. Operands stay small (sums ≤ 18, products ≤ 36) so a tiny model can learn the tables.
/// </summary>
internal static class ArithmeticWriter
{
    /// <summary>A document of 3–8 facts (more while it carries under <see cref="CorpusGenerator.MinDocumentBits"/>).</summary>
    public static void Write(ChoiceStream r, StringBuilder sb)
    {
        int n = r.Range(3, 8);
        for (int i = 0; i < n || r.Bits < CorpusGenerator.MinDocumentBits; i++) Fact(r, sb);
    }

    /// <summary>One fact of any type, at the corpus's mix.</summary>
    public static void Fact(ChoiceStream r, StringBuilder sb)
    {
        switch (r.Weighted([3, 3, 2, 2, 1, 1]))
        {
            case 0: Sum(r).WriteTo(sb); break;
            case 1: Difference(r).WriteTo(sb); break;
            case 2: Product(r).WriteTo(sb); break;
            case 3: WordProblem(r).WriteTo(sb); break;
            case 4: Count(r, sb); break;
            default: Comparison(r).WriteTo(sb); break;
        }
    }

    /// <summary>"a plus b is" → a + b, with a, b in 0..9.</summary>
    public static Cloze Sum(ChoiceStream r)
    {
        int a = r.Range(0, 9), b = r.Range(0, 9);
        return new Cloze($"{a} plus {b} is", SlotKind.Number, (a + b).ToString(), ".");
    }

    /// <summary>"a minus b is" → a − b, with b and the result in 0..9.</summary>
    public static Cloze Difference(ChoiceStream r)
    {
        int b = r.Range(0, 9), d = r.Range(0, 9);
        return new Cloze($"{b + d} minus {b} is", SlotKind.Number, d.ToString(), ".");
    }

    /// <summary>"a times b is" → a·b, with a, b in 1..6.</summary>
    public static Cloze Product(ChoiceStream r)
    {
        int a = r.Range(1, 6), b = r.Range(1, 6);
        return new Cloze($"{a} times {b} is", SlotKind.Number, (a * b).ToString(), ".");
    }

    /// <summary>"N had a goods and gave away b, so N has" → a − b (or "found b more" → a + b).</summary>
    public static Cloze WordProblem(ChoiceStream r)
    {
        string name = r.Pick(Lexicon.Names);
        Noun goods = r.Pick(Lexicon.Goods);
        int a = r.Range(2, 9);
        if (r.Flip())
        {
            int b = r.Range(1, a - 1);
            return new Cloze($"{name} had {a} {goods.Plural} and gave away {b}, so {name} has", SlotKind.Number, (a - b).ToString(), " left.");
        }
        int c = r.Range(1, 9);
        return new Cloze($"{name} had {a} {goods.Plural} and found {c} more, so {name} has", SlotKind.Number, (a + c).ToString(), " now.");
    }

    /// <summary>"Counting from 3 to 7: 3, 4, 5, 6, 7." — the run is determined by its ends.</summary>
    public static void Count(ChoiceStream r, StringBuilder sb)
    {
        int from = r.Range(0, 12), length = r.Range(3, 6);
        int to = from + length - 1;
        Text.Sentence(sb, $"Counting from {from} to {to}:");
        for (int i = from; i <= to; i++) sb.Append(' ').Append(i).Append(i == to ? '.' : ',');
    }

    /// <summary>"Of a and b, the bigger is" → max(a, b) (or "the smaller is" → min), a ≠ b in 0..20.</summary>
    public static Cloze Comparison(ChoiceStream r)
    {
        Span<int> pair = stackalloc int[2];
        r.Distinct(21, pair);
        bool bigger = r.Flip();
        int answer = bigger ? Math.Max(pair[0], pair[1]) : Math.Min(pair[0], pair[1]);
        return new Cloze($"Of {pair[0]} and {pair[1]}, the {(bigger ? "bigger" : "smaller")} is", SlotKind.Number, answer.ToString(), ".");
    }
}
