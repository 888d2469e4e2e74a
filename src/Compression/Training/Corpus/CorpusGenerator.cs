// CorpusGenerator: the seeded synthetic corpus — a weighted mix of document kinds — and its train/valid/test files.
using System.Text;

using Compression.IO;

namespace Compression.Training.Corpus;

/// <summary>Which split a document stream belongs to; each split has its own seed stream.</summary>
public enum CorpusSplit { Train, Validation, Test }

/// <summary>The kinds of document in the corpus.</summary>
public enum DocumentKind { Story, LongRangeStory, Agreement, Arithmetic, List, Records }

/// <summary>A generated document, its kind and its information content (bits spent by the generator's choices).</summary>
public sealed record GeneratedDocument(string Text, DocumentKind Kind, double EntropyBits);

/// <summary>
/// Deterministic synthetic English for training and evaluating a small proxy model: stories whose later
/// sentences refer back to earlier facts, agreement with attractors, small arithmetic, lists and records,
/// over a vocabulary of a few hundred words. Document <c>i</c> of a split depends only on (seed, split, i).
/// </summary>
public sealed class CorpusGenerator
{
    /// <summary>Bumped whenever the text for a given seed changes.</summary>
    public const int Version = 1;

    /// <summary>Written after every document: a blank line (documents never contain one).</summary>
    public const string DocumentSeparator = "\n\n";

    /// <summary>How <see cref="CorpusManifest.EntropyBitsPerByte"/> is computed.</summary>
    public const string EntropyMethod =
        "Every word choice the generator makes is a draw with known probability p; a document's entropyBits is the sum of " +
        "-log2 p over its draws (values restated from earlier text cost nothing). Split entropyBitsPerByte = sum of bits / " +
        "file bytes (separators included). The text is a function of the draws, so this is an upper bound on the text's true " +
        "entropy rate, equal to it where the draws can be read back from the text (templates are chosen to make that so); " +
        "a model's cross-entropy on this distribution cannot go below the true rate. Compare with a model's loss as " +
        "bits/byte = (nats/token) x tokens / bytes / ln 2.";

    /// <summary>
    /// Every document carries at least this much information (writers add sentences until it does), so
    /// P(any given document) ≤ 2^−64 and a document repeating across splits is practically impossible.
    /// </summary>
    public const double MinDocumentBits = 64;

    // Relative frequencies of DocumentKind values (same order).
    private static readonly int[] KindWeights = [6, 3, 3, 3, 2, 3];

    /// <summary>A generator for <paramref name="seed"/>.</summary>
    public CorpusGenerator(int seed) => Seed = seed;

    public int Seed { get; }

    /// <summary>Documents 0, 1, 2, … of <paramref name="split"/> (at most <paramref name="count"/>), as text without separators.</summary>
    public IEnumerable<string> Documents(CorpusSplit split = CorpusSplit.Train, long count = long.MaxValue)
    {
        var sb = new StringBuilder(1024);
        for (long i = 0; i < count; i++)
        {
            sb.Clear();
            Generate(split, i, sb);
            yield return sb.ToString();
        }
    }

    /// <summary>Document <paramref name="index"/> of <paramref name="split"/> with its kind and entropy.</summary>
    public GeneratedDocument Document(CorpusSplit split, long index)
    {
        var sb = new StringBuilder(1024);
        var (kind, bits) = Generate(split, index, sb);
        return new GeneratedDocument(sb.ToString(), kind, bits);
    }

    /// <summary>
    /// Writes train.txt, valid.txt and test.txt (each document followed by a blank line, ASCII) and
    /// corpus.json into <paramref name="dir"/>, each file atomically, the manifest last. A split holds
    /// the first documents of its stream whose total size fits its byte budget (at least one document
    /// when the budget is positive).
    /// </summary>
    public CorpusManifest WriteSplits(string dir, long trainBytes, long validBytes, long testBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trainBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(validBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(testBytes);
        Directory.CreateDirectory(dir);
        CorpusSplitInfo train = WriteSplit(Path.Combine(dir, "train.txt"), CorpusSplit.Train, trainBytes);
        CorpusSplitInfo valid = WriteSplit(Path.Combine(dir, "valid.txt"), CorpusSplit.Validation, validBytes);
        CorpusSplitInfo test = WriteSplit(Path.Combine(dir, "test.txt"), CorpusSplit.Test, testBytes);
        var manifest = new CorpusManifest
        {
            Version = Version,
            Seed = Seed,
            EntropyBitsPerByte = train.EntropyBitsPerByte,
            Train = train,
            Valid = valid,
            Test = test,
        };
        AtomicFile.WriteAllText(Path.Combine(dir, CorpusManifest.FileName), SyntheticJson.Serialize(manifest));
        return manifest;
    }

    private CorpusSplitInfo WriteSplit(string path, CorpusSplit split, long budget)
    {
        long bytes = 0, documents = 0;
        double bits = 0;
        int maxDoc = 0;
        var kinds = new (long Docs, long Bytes, double Bits)[KindWeights.Length];
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16);
            var sb = new StringBuilder(2048);
            for (long i = 0; bytes < budget; i++)
            {
                sb.Clear();
                var (kind, docBits) = Generate(split, i, sb);
                long size = sb.Length + DocumentSeparator.Length;
                if (bytes + size > budget && documents > 0) break;
                writer.Write(sb);
                writer.Write(DocumentSeparator);
                bytes += size;
                documents++;
                bits += docBits;
                maxDoc = Math.Max(maxDoc, sb.Length);
                ref var k = ref kinds[(int)kind];
                k = (k.Docs + 1, k.Bytes + size, k.Bits + docBits);
            }
        });
        return new CorpusSplitInfo
        {
            File = Path.GetFileName(path),
            Bytes = bytes,
            Documents = documents,
            EntropyBits = bits,
            EntropyBitsPerByte = bytes == 0 ? 0 : bits / bytes,
            MeanDocumentBytes = documents == 0 ? 0 : (double)(bytes - documents * DocumentSeparator.Length) / documents,
            MaxDocumentBytes = maxDoc,
            Kinds = Enum.GetValues<DocumentKind>().ToDictionary(k => k.ToString(), k =>
            {
                var s = kinds[(int)k];
                return new CorpusKindStats { Documents = s.Docs, Bytes = s.Bytes, EntropyBits = s.Bits, EntropyBitsPerByte = s.Bytes == 0 ? 0 : s.Bits / s.Bytes };
            }),
        };
    }

    // Appends document `index` of `split` to sb (which must be empty) and returns its kind and entropy.
    private (DocumentKind Kind, double Bits) Generate(CorpusSplit split, long index, StringBuilder sb)
    {
        var r = new ChoiceStream(SeedStreams.For(Seed, Tag(split), index));
        var kind = (DocumentKind)r.Weighted(KindWeights);
        Write(r, sb, kind);
        return (kind, r.Bits);
    }

    /// <summary>Writes one document of <paramref name="kind"/> (shared with the benchmark, which cuts documents short).</summary>
    internal static void Write(ChoiceStream r, StringBuilder sb, DocumentKind kind)
    {
        switch (kind)
        {
            case DocumentKind.Story: StoryWriter.Write(r, sb, longRange: false); break;
            case DocumentKind.LongRangeStory: StoryWriter.Write(r, sb, longRange: true); break;
            case DocumentKind.Agreement: AgreementWriter.Write(r, sb); break;
            case DocumentKind.Arithmetic: ArithmeticWriter.Write(r, sb); break;
            case DocumentKind.List: ListWriter.Write(r, sb); break;
            default: RecordWriter.Write(r, sb); break;
        }
    }

    private static ulong Tag(CorpusSplit split) => split switch
    {
        CorpusSplit.Train => SeedStreams.Train,
        CorpusSplit.Validation => SeedStreams.Validation,
        CorpusSplit.Test => SeedStreams.Test,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "unknown split"),
    };
}
