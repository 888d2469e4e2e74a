// AgreementWriter: sentences whose verb agrees in number with a subject separated from it by an attractor noun.
using System.Text;

namespace Compression.Training.Corpus;

/// <summary>
/// A subject–verb agreement sentence cut before the verb: "The keys to the cabinet" + " are" + " old.".
/// <see cref="Plural"/> is the subject's number, which alone decides the verb form.
/// </summary>
internal readonly record struct AgreementSentence(string Prefix, Verb Verb, bool Plural, string Tail)
{
    public string Correct => " " + Verb.Form(Plural);
    public string Wrong => " " + Verb.Form(!Plural);
    public void WriteTo(StringBuilder sb)
    {
        Text.Sentence(sb, Prefix);
        sb.Append(Correct).Append(Tail);
    }
}

/// <summary>
/// Writes agreement sentences. The subject is singular or plural; an attractor (a prepositional phrase
/// "to the cabinets" or a relative clause "that the boys see") puts a noun of free number between the
/// subject and its verb, so the verb's form depends on a word several tokens back, not the nearest noun.
/// </summary>
internal static class AgreementWriter
{
    /// <summary>A document of 3–6 agreement sentences (more while it carries under <see cref="CorpusGenerator.MinDocumentBits"/>).</summary>
    public static void Write(ChoiceStream r, StringBuilder sb)
    {
        int n = r.Range(3, 6);
        for (int i = 0; i < n || r.Bits < CorpusGenerator.MinDocumentBits; i++) Compose(r, mismatchedAttractor: false).WriteTo(sb);
    }

    /// <summary>
    /// One sentence. With <paramref name="mismatchedAttractor"/> the sentence always has an attractor
    /// of the opposite number to the subject (the benchmark's hard case; the corpus draws it freely).
    /// </summary>
    public static AgreementSentence Compose(ChoiceStream r, bool mismatchedAttractor)
    {
        bool animate = r.Flip();
        Noun subject = animate ? r.Pick(Lexicon.Animate) : r.Pick(Lexicon.Inanimate);
        bool plural = r.Flip();
        // 0: no attractor, 1–2: prepositional phrase, 3: relative clause (its own verb agrees with the attractor).
        int attractor = mismatchedAttractor ? 1 + r.Next(3) : r.Next(4);
        string prefix = $"The {subject.Form(plural)}";
        if (attractor > 0)
        {
            bool attractorPlural = mismatchedAttractor ? !plural : r.Flip();
            if (attractor < 3)
            {
                Noun noun = r.Flip() ? r.Pick(Lexicon.Animate) : r.Pick(Lexicon.Inanimate);
                prefix += $" {r.Pick(Lexicon.Prepositions)} the {noun.Form(attractorPlural)}";
            }
            else
            {
                Noun noun = r.Pick(Lexicon.Animate);
                prefix += $" that the {noun.Form(attractorPlural)} {r.Pick(Lexicon.Transitive).Form(attractorPlural)}";
            }
        }
        if (animate && r.Flip())
            return new AgreementSentence(prefix, r.Pick(Lexicon.Actions), plural, $" {r.Pick(Lexicon.ActionTails)}.");
        return new AgreementSentence(prefix, r.Pick(Lexicon.Copulas), plural, $" {r.Pick(Lexicon.Adjectives)}.");
    }
}
