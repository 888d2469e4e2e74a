// Cloze: a sentence split at a slot whose value is determined by earlier text, shared by the corpus and the benchmark.
using System.Text;

namespace Compression.Training.Corpus;

/// <summary>What kind of value fills a cloze slot (decides which values can stand in as distractors).</summary>
internal enum SlotKind { Colour, Animal, Name, City, Job, Count, Age, Number, Object }

/// <summary>
/// A sentence "Prefix Value[ Unit]Tail", e.g. ("Mira's fox is", Colour, "red", ".") or
/// ("Now Mira has", Count, "3", ".", apples). The corpus writes it whole; the benchmark cuts it after
/// <see cref="Prefix"/> and offers <see cref="Continuation"/> of the true value and of distractors.
/// </summary>
internal sealed record Cloze(string Prefix, SlotKind Kind, string Value, string Tail, Noun? Unit = null)
{
    /// <summary>The text after the prefix when the slot holds <paramref name="value"/>: leading space, value, unit, tail.</summary>
    public string Continuation(string value)
    {
        if (Unit is not { } unit) return " " + value + Tail;
        return " " + value + " " + unit.Form(value != "1") + Tail;
    }

    /// <summary>Appends the whole sentence (with the true value) to <paramref name="sb"/>, space-separated.</summary>
    public void WriteTo(StringBuilder sb)
    {
        Text.Sentence(sb, Prefix);
        sb.Append(Continuation(Value));
    }
}

/// <summary>Small helpers for assembling documents.</summary>
internal static class Text
{
    /// <summary>Appends a sentence, separated from the previous one by a space unless a line just ended.</summary>
    public static void Sentence(StringBuilder sb, string sentence)
    {
        if (sb.Length > 0 && sb[^1] != '\n') sb.Append(' ');
        sb.Append(sentence);
    }

    /// <summary>"a x", "a x and a y", "a x, a y and a z" — an English list with articles.</summary>
    public static string List(IReadOnlyList<string> items, bool articles)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(i == items.Count - 1 ? " and " : ", ");
            if (articles) sb.Append("a ");
            sb.Append(items[i]);
        }
        return sb.ToString();
    }

    public static string Capitalise(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
