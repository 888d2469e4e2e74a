// Tests for the synthetic benchmark suite: determinism, mc layout and sets, one correct answer per item, balance, and baselines.
using System.Text.Json;
using System.Text.RegularExpressions;
using Compression.Training.Corpus;
using Compression.Training.Suite;
using Xunit.Abstractions;

namespace Compression.Tests.Training;

public sealed class SyntheticSuiteTests(ITestOutputHelper output) : IDisposable
{
    private const int Items = 400;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "synthetic-suite-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private sealed record ParsedItem(string Id, string Context, string[] Choices, int Answer);

    // Parses a category file with JsonDocument only (the generic reader's view of the mc layout).
    private static List<ParsedItem> ReadJsonl(string path) => File.ReadLines(path).Select(line =>
    {
        using var doc = JsonDocument.Parse(line);
        JsonElement o = doc.RootElement;
        Assert.Equal(4, o.EnumerateObject().Count());
        return new ParsedItem(o.GetProperty("id").GetString()!, o.GetProperty("context").GetString()!,
            o.GetProperty("choices").EnumerateArray().Select(c => c.GetString()!).ToArray(), o.GetProperty("answer").GetInt32());
    }).ToList();

    [Fact]
    public void SameSeed_WritesByteIdenticalSuite_DifferentSeedDiffers()
    {
        BenchmarkSuiteGenerator.Write(Path.Combine(_dir, "a"), 250, 9);
        BenchmarkSuiteGenerator.Write(Path.Combine(_dir, "b"), 250, 9);
        BenchmarkSuiteGenerator.Write(Path.Combine(_dir, "c"), 250, 10);
        foreach (string f in SuiteManifest.Read(Path.Combine(_dir, "a")).Categories.Select(c => c.File).Append(SuiteManifest.FileName))
        {
            byte[] a = File.ReadAllBytes(Path.Combine(_dir, "a", f));
            Assert.True(a.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(_dir, "b", f))), f);
            Assert.False(a.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(_dir, "c", f))), f);
        }
    }

    [Fact]
    public void Manifest_ListsSixCategories_WithChanceLevels()
    {
        SuiteManifest written = BenchmarkSuiteGenerator.Write(_dir, 200, 3);
        SuiteManifest m = SuiteManifest.Read(_dir);
        Assert.Equal(["agreement", "arithmetic", "counting", "list_count", "recall", "long_range"], m.Categories.Select(c => c.Name));
        Assert.Equal(["core", "core", "core", "core", "retrieval", "retrieval"], m.Categories.Select(c => c.Set));
        Assert.Equal(written.Categories, m.Categories);
        Assert.Equal((3, BenchmarkSuiteGenerator.Version, CorpusGenerator.Version, "mc"), (m.Seed, m.Version, m.CorpusVersion, m.Layout));
        foreach (SuiteCategoryInfo c in m.Categories)
        {
            Assert.Equal(200, c.Items);
            Assert.Equal(1.0 / c.Choices, c.Chance);
            Assert.Equal(BenchmarkSuiteGenerator.ChoiceCount(c.Name), c.Choices);
            Assert.Equal(200, File.ReadLines(Path.Combine(_dir, c.File)).Count());
            Assert.Equal(c.Set == "core" ? c.Name + ".jsonl" : $"retrieval/{c.Name}.jsonl", c.File);
            Assert.Equal(BenchmarkSuiteGenerator.SetOf(c.Name), c.Set);
        }
        Assert.Equal(2, m.Categories.Single(c => c.Name == "agreement").Choices);
        Assert.All(m.Categories.Where(c => c.Name != "agreement"), c => Assert.Equal(4, c.Choices));
    }

    [Fact]
    public void TopLevelGlob_FindsExactlyTheCoreSet()
    {
        // The experiments score ".cache/proxy/suite/*.jsonl": the core set, never the retrieval files below it.
        BenchmarkSuiteGenerator.Write(_dir, 8, 1);
        Assert.Equal(["agreement.jsonl", "arithmetic.jsonl", "counting.jsonl", "list_count.jsonl"],
            Directory.GetFiles(_dir, "*.jsonl").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["long_range.jsonl", "recall.jsonl"],
            Directory.GetFiles(Path.Combine(_dir, "retrieval"), "*.jsonl").Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("recall")]
    [InlineData("agreement")]
    [InlineData("arithmetic")]
    [InlineData("long_range")]
    [InlineData("counting")]
    [InlineData("list_count")]
    public void EveryItem_IsWellFormed_WithExactlyOneCorrectChoice_AndBalancedAnswers(string category)
    {
        SuiteManifest manifest = BenchmarkSuiteGenerator.Write(_dir, Items, 21);
        List<ParsedItem> items = ReadJsonl(Path.Combine(_dir, manifest.Categories.Single(c => c.Name == category).File));
        int n = BenchmarkSuiteGenerator.ChoiceCount(category);
        Assert.Equal(Items, items.Count);
        Assert.Equal(Items, items.Select(i => i.Id).Distinct().Count());
        var positions = new int[n];
        foreach (ParsedItem item in items)
        {
            Assert.Equal(n, item.Choices.Length);
            Assert.Equal(n, item.Choices.Distinct().Count());
            Assert.InRange(item.Answer, 0, n - 1);
            Assert.All(item.Choices, c => Assert.StartsWith(" ", c));
            Assert.False(item.Context.EndsWith(' ') || item.Context.Contains("\n\n"), item.Id);
            positions[item.Answer]++;

            // The independent oracle reads the context and names the single choice that is right.
            bool[] right = category == "agreement"
                ? item.Choices.Select(c => SyntheticSuiteOracle.VerbIsSingular(c) != SyntheticSuiteOracle.SubjectIsPlural(item.Context)).ToArray()
                : item.Choices.Select(c => SyntheticSuiteOracle.ChoiceValue(c) == (SyntheticSuiteOracle.Solve(item.Context)
                    ?? throw new Xunit.Sdk.XunitException($"oracle cannot solve {item.Id}: {item.Context}"))).ToArray();
            Assert.True(right.Count(r => r) == 1 && right[item.Answer], $"{item.Id}: {item.Context} | {string.Join("|", item.Choices)} answer {item.Answer}");
        }
        // Each block of n items uses every answer slot once.
        Assert.All(positions, p => Assert.InRange(p, Items / n, (Items + n - 1) / n));
    }

    [Fact]
    public void Agreement_NearestNounHeuristic_IsAlwaysWrong()
    {
        var items = BenchmarkSuiteGenerator.Items("agreement", Items, 4).ToList();
        int correct = items.Count(i =>
            SyntheticSuiteOracle.VerbIsSingular(i.Choices[i.Answer]) != SyntheticSuiteOracle.NearestNounIsPlural(i.Context));
        Assert.Equal(0, correct);
    }

    [Fact]
    public void RecallCategories_AreNotSolvedByContextFreeOrCopyBaselines()
    {
        // A unigram word model of 8,000 training documents (~2.4 MB), add-one smoothed: scores each choice
        // by Σ log p(word), ignoring the context. It measures whether choice frequency alone gives the answer.
        var counts = new Dictionary<string, int>();
        long total = 0;
        foreach (string doc in new CorpusGenerator(1).Documents(CorpusSplit.Train, 8_000))
            foreach (Match w in Words().Matches(doc)) { counts[w.Value] = counts.GetValueOrDefault(w.Value) + 1; total++; }
        double Unigram(string choice) => Words().Matches(choice).Sum(w => Math.Log((counts.GetValueOrDefault(w.Value) + 1.0) / (total + counts.Count)));

        foreach (string category in new[] { "recall", "long_range" })
        {
            var items = BenchmarkSuiteGenerator.Items(category, 1_000, 5).ToList();
            double unigram = items.Count(i => ArgMax(i.Choices, Unigram) == i.Answer) / (double)items.Count;
            // Copy baseline: the choice whose value occurs most often in the context (ties go to the earliest slot).
            double copy = items.Count(i => ArgMax(i.Choices, c => Occurrences(i.Context, SyntheticSuiteOracle.ChoiceValue(c))) == i.Answer) / (double)items.Count;
            output.WriteLine($"{category}: unigram {unigram:P1}, copy-most-frequent {copy:P1} (chance 25%)");
            Assert.InRange(unigram, 0.15, 0.35);
            Assert.InRange(copy, 0.15, 0.40);
        }
    }

    [Fact]
    public void SuiteContexts_AreNotTrainingDocuments()
    {
        var train = new CorpusGenerator(5).Documents(CorpusSplit.Train, 20_000).ToList();
        var prefixes = new HashSet<string>(train.Select(d => d[..Math.Min(d.Length, 60)]));
        foreach (string category in new[] { "recall", "long_range" })
        {
            var items = BenchmarkSuiteGenerator.Items(category, 500, 5).ToList();
            int shared = items.Count(i => prefixes.Contains(i.Context[..Math.Min(i.Context.Length, 60)]) &&
                                          train.Any(d => d.StartsWith(i.Context, StringComparison.Ordinal)));
            Assert.Equal(0, shared);
        }
    }

    [Fact]
    public void UnknownCategory_IsRejected() =>
        Assert.Throws<ArgumentException>(() => BenchmarkSuiteGenerator.Items("nope", 1, 1).ToList());

    private static int ArgMax(IReadOnlyList<string> choices, Func<string, double> score)
    {
        int best = 0;
        for (int k = 1; k < choices.Count; k++) if (score(choices[k]) > score(choices[best])) best = k;
        return best;
    }

    private static int Occurrences(string text, string word) => Regex.Matches(text, $@"\b{Regex.Escape(word)}\b").Count;

    private static Regex Words() => WordRx;
    private static readonly Regex WordRx = new(@"\w+|[^\w\s]", RegexOptions.Compiled);
}
