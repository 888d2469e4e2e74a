// SyntheticCorpus: seeded English-like text with numbers, punctuation and some non-ASCII, for trainer tests.
using System.Text;

namespace Compression.Tests.Tokenization;

internal static class SyntheticCorpus
{
    private static readonly string[] Words =
    [
        "the", "clock", "is", "only", "a", "very", "stubborn", "way", "of", "counting", "she", "didn't", "hurry",
        "learned", "that", "hurrying", "was", "most", "expensive", "tool", "apprentice", "how", "often", "smallest",
        "piece", "decides", "whether", "whole", "machine", "works", "gears", "springs", "naïve", "café", "über",
        "時計", "time", "watchmaker", "and", "in", "to", "it's", "we'll", "They", "The", "A", "Numbers",
    ];

    /// <summary>About <paramref name="chars"/> characters of sentences, deterministic for a seed.</summary>
    public static string Make(int chars, int seed = 1)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder(chars + 200);
        while (sb.Length < chars)
        {
            int n = 4 + rng.Next(12);
            for (int i = 0; i < n; i++)
            {
                if (i > 0) sb.Append(' ');
                int r = rng.Next(100);
                if (r < 5) sb.Append(rng.Next(100_000));
                else if (r < 6) sb.Append("🙂");
                else sb.Append(Words[(int)Math.Min(Words.Length - 1, Math.Abs(rng.NextDouble() * rng.NextDouble() * Words.Length))]);
                if (rng.Next(10) == 0) sb.Append(',');
            }
            sb.Append(rng.Next(5) == 0 ? "!\n\n" : ". ");
        }
        return sb.ToString();
    }
}
