// Tests for the synthetic corpus: determinism, split disjointness, file layout and the entropy estimate.
using System.IO.Compression;
using System.Text;
using Compression.Training.Corpus;

namespace Compression.Tests.Training;

public sealed class SyntheticCorpusTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "synthetic-corpus-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static readonly string[] Files = ["train.txt", "valid.txt", "test.txt", CorpusManifest.FileName];

    [Fact]
    public void SameSeed_WritesByteIdenticalFiles()
    {
        new CorpusGenerator(11).WriteSplits(Path.Combine(_dir, "a"), 300_000, 40_000, 40_000);
        new CorpusGenerator(11).WriteSplits(Path.Combine(_dir, "b"), 300_000, 40_000, 40_000);
        foreach (string f in Files)
            Assert.True(File.ReadAllBytes(Path.Combine(_dir, "a", f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(_dir, "b", f))), f);
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "a"), "*.tmp"));
    }

    [Fact]
    public void DifferentSeeds_AndDifferentSplits_GiveDifferentDocuments()
    {
        var a = new CorpusGenerator(1).Documents(CorpusSplit.Train, 200).ToList();
        var b = new CorpusGenerator(2).Documents(CorpusSplit.Train, 200).ToList();
        var v = new CorpusGenerator(1).Documents(CorpusSplit.Validation, 200).ToList();
        Assert.Empty(a.Intersect(b));
        Assert.Empty(a.Intersect(v));
    }

    [Fact]
    public void Files_HoldTheDocumentStream_SeparatedByBlankLines_AndTheManifestCountsThem()
    {
        var gen = new CorpusGenerator(5);
        CorpusManifest m = gen.WriteSplits(_dir, 200_000, 30_000, 0);
        string train = File.ReadAllText(Path.Combine(_dir, "train.txt"));
        Assert.True(train.Length <= 200_000 && train.Length > 190_000, $"train is {train.Length} bytes");
        Assert.EndsWith("\n\n", train);
        Assert.All(train, c => Assert.True(c is '\n' or (>= ' ' and <= '~'), $"non-ASCII or control char {(int)c}"));
        string[] docs = train[..^2].Split("\n\n");
        Assert.Equal(gen.Documents(CorpusSplit.Train, docs.Length), docs);
        Assert.All(docs, d => Assert.False(string.IsNullOrWhiteSpace(d) || d.StartsWith('\n') || d.EndsWith('\n')));

        CorpusManifest read = CorpusManifest.Read(_dir);
        Assert.Equal(m, read with { Train = m.Train, Valid = m.Valid, Test = m.Test });
        Assert.Equal(docs.Length, read.Train.Documents);
        Assert.Equal(train.Length, read.Train.Bytes);
        Assert.Equal(new FileInfo(Path.Combine(_dir, "valid.txt")).Length, read.Valid.Bytes);
        Assert.Equal(0, read.Test.Bytes);
        Assert.Equal(0, new FileInfo(Path.Combine(_dir, "test.txt")).Length);
        Assert.Equal(5, read.Seed);
        Assert.Equal(CorpusGenerator.Version, read.Version);
        Assert.Equal(read.Train.Documents, read.Train.Kinds.Values.Sum(k => k.Documents));
        Assert.Equal(read.Train.Bytes, read.Train.Kinds.Values.Sum(k => k.Bytes));
        Assert.All(Enum.GetNames<DocumentKind>(), k => Assert.True(read.Train.Kinds[k].Documents > 0, k));
    }

    [Fact]
    public void Splits_ShareNoDocument_AndEveryDocumentCarriesTheMinimumInformation()
    {
        var gen = new CorpusGenerator(3);
        var train = new HashSet<string>(gen.Documents(CorpusSplit.Train, 20_000));
        foreach (CorpusSplit split in new[] { CorpusSplit.Validation, CorpusSplit.Test })
            for (int i = 0; i < 3_000; i++)
            {
                GeneratedDocument d = gen.Document(split, i);
                Assert.DoesNotContain(d.Text, train);
                Assert.True(d.EntropyBits >= CorpusGenerator.MinDocumentBits, $"{split} {i}: {d.EntropyBits} bits");
            }
    }

    [Fact]
    public void EntropyEstimate_SumsTheDocuments_AndIsBelowWhatBrotliAchieves()
    {
        var gen = new CorpusGenerator(8);
        CorpusManifest m = gen.WriteSplits(_dir, 300_000, 20_000, 20_000);
        double bits = 0;
        for (int i = 0; i < m.Valid.Documents; i++) bits += gen.Document(CorpusSplit.Validation, i).EntropyBits;
        Assert.Equal(m.Valid.EntropyBits, bits, 6);
        Assert.Equal(m.Train.EntropyBitsPerByte, m.EntropyBitsPerByte);

        // No compressor can beat the true entropy rate; the estimate must sit below a strong one's rate
        // (bzip2 -9 reaches 0.78 and xz -9e 0.99 bits/byte on 20 MB of this corpus; the estimate is ~0.40).
        byte[] text = File.ReadAllBytes(Path.Combine(_dir, "train.txt"));
        using var compressed = new MemoryStream();
        using (var brotli = new BrotliStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true)) brotli.Write(text);
        double brotliRate = compressed.Length * 8.0 / text.Length;
        Assert.InRange(m.EntropyBitsPerByte, 0.2, brotliRate * 0.8);
    }

    [Fact]
    public void MalformedManifest_IsInvalidData_NamingTheFile()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, CorpusManifest.FileName), "{\"version\": 1");
        var e = Assert.Throws<InvalidDataException>(() => CorpusManifest.Read(_dir));
        Assert.Contains(CorpusManifest.FileName, e.Message);
        File.WriteAllText(Path.Combine(_dir, CorpusManifest.FileName), "{\"version\": 1}");
        Assert.Throws<InvalidDataException>(() => CorpusManifest.Read(_dir));
        Assert.Throws<InvalidDataException>(() => CorpusManifest.Read(Path.Combine(_dir, "missing")));
    }

    [Fact]
    public void ChoiceStream_CountsBits_AndDrawsDistinctValues()
    {
        var r = new ChoiceStream(42);
        r.Next(8);
        Assert.Equal(3.0, r.Bits, 12);
        r.ResetBits();
        r.Weighted([1, 3]);
        Assert.True(Math.Abs(r.Bits - 2.0) < 1e-12 || Math.Abs(r.Bits - Math.Log2(4.0 / 3)) < 1e-12, $"{r.Bits}");
        r.ResetBits();
        var items = Enumerable.Range(0, 5).ToList();
        r.Shuffle(items);
        Assert.Equal(Math.Log2(120), r.Bits, 9);
        Assert.Equal(Enumerable.Range(0, 5), items.Order());

        var used = new List<int>();
        for (int i = 0; i < 10; i++) r.NextExcept(10, used);
        Assert.Equal(Enumerable.Range(0, 10), used.Order());
        Span<int> d = stackalloc int[6];
        r.Distinct(6, d);
        Assert.Equal(Enumerable.Range(0, 6), d.ToArray().Order());

        // Uniformity: 60,000 draws over 6 values, each count within 5 standard deviations of 10,000.
        var counts = new int[6];
        for (int i = 0; i < 60_000; i++) counts[r.Next(6)]++;
        Assert.All(counts, c => Assert.InRange(c, 10_000 - 5 * 91, 10_000 + 5 * 91));
    }
}
