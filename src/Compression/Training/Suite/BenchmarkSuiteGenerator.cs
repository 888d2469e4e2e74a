// BenchmarkSuiteGenerator: the synthetic multiple-choice suite (agreement, arithmetic, counting, list_count; retrieval: recall, long_range) as mc JSONL files.
using Compression.Training.Corpus;

using Compression.IO;

namespace Compression.Training.Suite;

/// <summary>
/// Writes the synthetic benchmark: one <c>&lt;category&gt;.jsonl</c> per category in the generic
/// <c>mc</c> layout plus <c>suite.json</c>. Items are drawn from the corpus's own sentence
/// distribution, from seed streams disjoint from the corpus splits (even for the same numeric seed).
/// Each category's answer positions are exactly balanced within every block of <c>choices</c> items.
/// <para>
/// Two sets: the <see cref="CoreSet"/> categories (agreement, arithmetic, counting, list_count) are written
/// at the top of the folder, where the quickstart's <c>suite/*.jsonl</c> finds them; the
/// <see cref="RetrievalSet"/> categories (recall, long_range), which need the model to find one person's fact
/// among several stated in its context, go to <c>retrieval/</c>. The built-in proxy does not learn that
/// skill in its 15-minute budget (it scores at chance there), so the quickstart does not score them;
/// <c>experiments/retrieval.json</c> does, for models that can.
/// </para>
/// </summary>
public static class BenchmarkSuiteGenerator
{
    /// <summary>Bumped whenever the items for a given seed, or where they are written, change (3: retrieval/ split off).</summary>
    public const int Version = 3;

    /// <summary>The set of the categories the built-in proxy has learned; written at the top of the suite folder.</summary>
    public const string CoreSet = "core";

    /// <summary>The set of in-context retrieval categories; written under <c>retrieval/</c>.</summary>
    public const string RetrievalSet = "retrieval";

    private sealed record Category(string Name, int Choices, string Description, Func<ChoiceStream, Question> Build, string Set = CoreSet)
    {
        // Path of the category's file inside the suite folder, with '/' separators (as suite.json records it).
        public string File => Set == CoreSet ? Name + ".jsonl" : $"{Set}/{Name}.jsonl";
    }

    private static readonly Category[] All =
    [
        new("agreement", AgreementQuestions.Choices,
            "Subject followed by an attractor noun of the opposite number; choose the verb form agreeing with the subject.",
            AgreementQuestions.Build),
        new("arithmetic", ArithmeticQuestions.Choices,
            "Sum, difference, product, word problem or a story transfer (recall + subtraction); choose the result among numbers within 3 of it.",
            ArithmeticQuestions.Build),
        new("counting", CountingQuestions.Choices,
            "A counting run cut before its last number; choose it among numbers within 3.",
            CountingQuestions.Build),
        new("list_count", ListCountQuestions.Choices,
            "A list of objects or colours, then how many it holds; choose the count among numbers within 3.",
            ListCountQuestions.Build),
        new("recall", RecallQuestions.Choices,
            "A story or record table, then a sentence restating one stated fact; choose the value (distractors: same kind, from other people in the context first).",
            RecallQuestions.Build, RetrievalSet),
        new("long_range", LongRangeQuestions.Choices,
            "People introduced, then 8-12 unrelated sentences, then a reference back; choose the stated value.",
            LongRangeQuestions.Build, RetrievalSet),
    ];

    /// <summary>Category names, in file order.</summary>
    public static IReadOnlyList<string> Categories { get; } = All.Select(c => c.Name).ToArray();

    /// <summary>The set <paramref name="category"/> belongs to: <see cref="CoreSet"/> or <see cref="RetrievalSet"/>.</summary>
    public static string SetOf(string category) => Find(category).Set;

    /// <summary>Number of choices per item in <paramref name="category"/>.</summary>
    public static int ChoiceCount(string category) => Find(category).Choices;

    /// <summary>Items 0 … <paramref name="count"/>−1 of <paramref name="category"/> for <paramref name="seed"/>; item i depends only on (seed, category, i).</summary>
    public static IEnumerable<SuiteItem> Items(string category, int count, int seed)
    {
        Category c = Find(category);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ulong tag = SeedStreams.Named(SeedStreams.Suite, c.Name);
        ulong positionsTag = SeedStreams.Named(SeedStreams.Suite, c.Name + "/positions");
        int[] positions = new int[c.Choices];
        for (int i = 0; i < count; i++)
        {
            if (i % c.Choices == 0)
            {
                // A fresh permutation of answer slots for every block of `Choices` items.
                for (int p = 0; p < positions.Length; p++) positions[p] = p;
                new ChoiceStream(SeedStreams.For(seed, positionsTag, i / c.Choices)).Shuffle(positions);
            }
            var r = new ChoiceStream(SeedStreams.For(seed, tag, i));
            Question q = c.Build(r);
            if (q.Distractors.Count != c.Choices - 1 || q.Distractors.Contains(q.Answer) || q.Distractors.Distinct().Count() != q.Distractors.Count)
                throw new InvalidOperationException($"{c.Name} item {i}: malformed distractors for answer '{q.Answer}'");
            var wrong = q.Distractors.ToList();
            r.Shuffle(wrong);
            int answer = positions[i % c.Choices];
            var choices = new string[c.Choices];
            for (int k = 0, w = 0; k < choices.Length; k++) choices[k] = k == answer ? q.Answer : wrong[w++];
            yield return new SuiteItem($"{c.Name}-{i:D5}", q.Context, choices, answer);
        }
    }

    /// <summary>
    /// Writes <c>&lt;category&gt;.jsonl</c> (one item per line) for every category — core ones in
    /// <paramref name="dir"/>, retrieval ones in <c>retrieval/</c> — and then <c>suite.json</c>, each file atomically.
    /// </summary>
    public static SuiteManifest Write(string dir, int itemsPerCategory, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(itemsPerCategory);
        Directory.CreateDirectory(dir);
        var infos = new List<SuiteCategoryInfo>();
        foreach (Category c in All)
        {
            string path = Path.Combine(dir, c.File); // AtomicFile creates retrieval/ as it writes
            long contextBytes = 0;
            int maxContext = 0;
            AtomicFile.Write(path, stream =>
            {
                foreach (SuiteItem item in Items(c.Name, itemsPerCategory, seed))
                {
                    item.WriteJson(stream);
                    stream.WriteByte((byte)'\n');
                    contextBytes += item.Context.Length;
                    maxContext = Math.Max(maxContext, item.Context.Length);
                }
            });
            infos.Add(new SuiteCategoryInfo
            {
                Name = c.Name,
                File = c.File,
                Set = c.Set,
                Items = itemsPerCategory,
                Choices = c.Choices,
                Chance = 1.0 / c.Choices,
                MeanContextBytes = (double)contextBytes / itemsPerCategory,
                MaxContextBytes = maxContext,
                Description = c.Description,
            });
        }
        var manifest = new SuiteManifest { Version = Version, CorpusVersion = CorpusGenerator.Version, Seed = seed, Categories = infos };
        AtomicFile.WriteAllText(Path.Combine(dir, SuiteManifest.FileName), SyntheticJson.Serialize(manifest));
        return manifest;
    }

    private static Category Find(string category) =>
        All.FirstOrDefault(c => c.Name == category)
        ?? throw new ArgumentException($"unknown category '{category}'; known: {string.Join(", ", Categories)}", nameof(category));
}
