// FewShotSampler: deterministic choice of few-shot examples for an item, from the same file, never the item itself.
namespace Compression.Evaluation.Tasks.MultipleChoice;

/// <summary>
/// Draws k distinct other documents for document i. The random stream depends only on (seed, i), so an item
/// gets the same examples whatever subset or order is evaluated. Candidates are the documents of the item's
/// <see cref="MultipleChoiceDocument.Group"/> when that group has at least k others, else the whole file.
/// </summary>
public sealed class FewShotSampler
{
    private readonly IReadOnlyList<MultipleChoiceDocument> _documents;
    private readonly Dictionary<string, int[]> _groups;
    private readonly int _seed;

    public FewShotSampler(IReadOnlyList<MultipleChoiceDocument> documents, int seed)
    {
        _documents = documents;
        _seed = seed;
        _groups = Enumerable.Range(0, documents.Count)
            .Where(i => documents[i].Group is not null)
            .GroupBy(i => documents[i].Group!)
            .ToDictionary(g => g.Key, g => g.ToArray());
    }

    /// <summary>Indices of <paramref name="k"/> example documents for document <paramref name="index"/>, in prompt order.</summary>
    public int[] Sample(int index, int k)
    {
        if (k == 0) return [];
        if (k < 0 || k > _documents.Count - 1)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"Few-shot count must be in [0, {_documents.Count - 1}] for a file of {_documents.Count} documents.");
        int[]? pool = _documents[index].Group is string g && _groups.TryGetValue(g, out var members) && members.Length - 1 >= k ? members : null;
        int poolSize = pool?.Length ?? _documents.Count;
        var random = new Random(Mix(_seed, index));
        var chosen = new List<int>(k);
        var seen = new HashSet<int> { index };
        // Rejection sampling: k is small next to the pool, so this is O(k) expected without an O(n) shuffle per item.
        while (chosen.Count < k)
        {
            int candidate = pool is null ? random.Next(poolSize) : pool[random.Next(poolSize)];
            if (seen.Add(candidate)) chosen.Add(candidate);
        }
        return chosen.ToArray();
    }

    /// <summary>SplitMix64 finaliser of (seed, index): stable across runs and .NET versions, unlike HashCode.</summary>
    private static int Mix(int seed, int index)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }
}
