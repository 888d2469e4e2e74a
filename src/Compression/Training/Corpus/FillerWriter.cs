// FillerWriter: self-contained sentences that mention no story character, used to pad stories between mention and recall.
using System.Text;

namespace Compression.Training.Corpus;

/// <summary>
/// Unrelated sentences placed between a story's introductions and its references back. They never
/// name a person, so they cannot contradict or duplicate a story fact.
/// </summary>
internal static class FillerWriter
{
    public static void Sentence(ChoiceStream r, StringBuilder sb)
    {
        switch (r.Weighted([3, 2, 1, 1]))
        {
            case 0: AgreementWriter.Compose(r, mismatchedAttractor: false).WriteTo(sb); break;
            case 1: (r.Flip() ? ArithmeticWriter.Sum(r) : ArithmeticWriter.Difference(r)).WriteTo(sb); break;
            case 2: ArithmeticWriter.Count(r, sb); break;
            default: ListWriter.Sentence(r, sb); break;
        }
    }
}
