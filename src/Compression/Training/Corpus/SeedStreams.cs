// SeedStreams: derives independent per-document seeds for each named stream (train, valid, test, suite categories).
namespace Compression.Training.Corpus;

/// <summary>
/// Domain-separated seeds: a document's stream seed depends on (user seed, stream tag, index), so
/// the train, validation, test and benchmark streams never share a random sequence even when the
/// user seed is the same.
/// </summary>
internal static class SeedStreams
{
    public const ulong Train = 0x5452_4149_4E00_0001UL;
    public const ulong Validation = 0x5641_4C49_4400_0002UL;
    public const ulong Test = 0x5445_5354_0000_0003UL;
    /// <summary>Base tag of the benchmark suite; each category mixes its own name in.</summary>
    public const ulong Suite = 0x5355_4954_4500_0004UL;

    /// <summary>The seed of document <paramref name="index"/> in stream <paramref name="tag"/>.</summary>
    public static ulong For(int seed, ulong tag, long index) =>
        Mix(Mix(Mix((ulong)(uint)seed) ^ tag) + (ulong)index);

    /// <summary>A stream tag for a named sub-stream (FNV-1a of the name, mixed into the base tag).</summary>
    public static ulong Named(ulong baseTag, string name)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (char c in name) h = (h ^ c) * 0x100000001B3UL;
        return Mix(baseTag ^ h);
    }

    // SplitMix64's finaliser: a bijective 64-bit mixer.
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
