// AgreementQuestions: "agreement" items — the verb after a subject whose attractor has the opposite number.
using System.Text;
using Compression.Training.Corpus;

namespace Compression.Training.Suite;

/// <summary>
/// Up to two ordinary agreement sentences, then one whose subject is followed by an attractor of the
/// opposite number ("The keys to the cabinet" → " are" / " is"); the nearest noun always suggests the wrong form.
/// </summary>
internal static class AgreementQuestions
{
    public const int Choices = 2;

    public static Question Build(ChoiceStream r)
    {
        var sb = new StringBuilder();
        int before = r.Range(0, 2);
        for (int i = 0; i < before; i++) AgreementWriter.Compose(r, mismatchedAttractor: false).WriteTo(sb);
        AgreementSentence target = AgreementWriter.Compose(r, mismatchedAttractor: true);
        Text.Sentence(sb, target.Prefix);
        return new Question(sb.ToString(), target.Correct, [target.Wrong]);
    }
}
