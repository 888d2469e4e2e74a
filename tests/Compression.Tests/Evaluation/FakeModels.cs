// FakeModels: tiny language models with hand-checkable distributions for the evaluation tests.
using System.Text;
using Compression.Evaluation;

namespace Compression.Tests.Evaluation;

/// <summary>
/// One token per character of <see cref="Alphabet"/> (id = index), BOS = Alphabet.Length. Next-token
/// probabilities come from <see cref="Row"/>, given the previous token (a bigram model; unigram if it ignores it).
/// </summary>
internal class CharModel(string alphabet, Func<int, double[]> row, int maxContext = 64) : LogitsLanguageModelBase
{
    public string Alphabet { get; } = alphabet;
    public override int VocabSize => Alphabet.Length + 1;
    public override int MaxContext => maxContext;
    public override int? BosId => Alphabet.Length;
    public List<int[]> Calls { get; } = [];

    /// <summary>Probabilities of the next token (length VocabSize) after <paramref name="previous"/>.</summary>
    public double[] Row(int previous) => row(previous);

    public override int[] Encode(string text, bool addBos)
    {
        var ids = text.Select(c => Alphabet.IndexOf(c) is int i and >= 0 ? i : throw new ArgumentException($"'{c}' not in alphabet")).ToList();
        if (addBos) ids.Insert(0, Alphabet.Length);
        return ids.ToArray();
    }

    public override long ByteLength(ReadOnlySpan<int> tokens)
    {
        long bytes = 0;
        foreach (int t in tokens) if (t < Alphabet.Length) bytes += Encoding.UTF8.GetByteCount(Alphabet[t].ToString());
        return bytes;
    }

    protected override float[] Logits(ReadOnlySpan<int> tokens)
    {
        Calls.Add(tokens.ToArray());
        var logits = new float[tokens.Length * VocabSize];
        for (int t = 0; t < tokens.Length; t++)
        {
            double[] p = Row(tokens[t]);
            for (int v = 0; v < VocabSize; v++) logits[t * VocabSize + v] = (float)Math.Log(p[v]);
        }
        return logits;
    }

    /// <summary>Uniform over the whole vocabulary (BOS included): perplexity = VocabSize exactly.</summary>
    public static CharModel Uniform(string alphabet, int maxContext = 64) =>
        new(alphabet, _ => Enumerable.Repeat(1.0 / (alphabet.Length + 1), alphabet.Length + 1).ToArray(), maxContext);

    /// <summary>
    /// Alphabet "ab", BOS = 2. P(·|BOS) = [.5, .25, .25], P(·|a) = [.1, .8, .1], P(·|b) = [.6, .2, .2].
    /// </summary>
    public static CharModel Bigram(int maxContext = 64) => new("ab", prev => prev switch
    {
        0 => [0.1, 0.8, 0.1],
        1 => [0.6, 0.2, 0.2],
        _ => [0.5, 0.25, 0.25],
    }, maxContext);
}

/// <summary>Byte-level tokens (id = byte, BOS = 256) with fixed unigram log-probabilities; unspecified bytes share the rest.</summary>
internal sealed class ByteUnigramModel : LogitsLanguageModelBase
{
    private readonly float[] _logProbs = new float[257];

    public ByteUnigramModel(IReadOnlyDictionary<char, double> logProbs)
    {
        double rest = 1 - logProbs.Values.Sum(Math.Exp);
        double each = Math.Log(rest / (257 - logProbs.Count));
        Array.Fill(_logProbs, (float)each);
        foreach (var (c, lp) in logProbs) _logProbs[c] = (float)lp;
    }

    public override int VocabSize => 257;
    public override int MaxContext => 4096;
    public override int? BosId => 256;
    public override int[] Encode(string text, bool addBos) =>
        (addBos ? new[] { 256 } : []).Concat(Encoding.UTF8.GetBytes(text).Select(b => (int)b)).ToArray();
    public override long ByteLength(ReadOnlySpan<int> tokens) { long n = 0; foreach (int t in tokens) if (t < 256) n++; return n; }

    protected override float[] Logits(ReadOnlySpan<int> tokens)
    {
        var logits = new float[tokens.Length * 257];
        for (int t = 0; t < tokens.Length; t++) _logProbs.CopyTo(logits, t * 257);
        return logits;
    }
}

/// <summary>
/// Text "0 1 2 …" encodes to those ids, so every token is unique; <see cref="ScoreTokens"/> records which ids were
/// scored and with how many tokens before them in the window.
/// </summary>
internal sealed class RecordingModel(int vocab, int maxContext) : ILanguageModel
{
    public List<(int Token, int Position)> Scored { get; } = [];
    public int VocabSize => vocab;
    public int MaxContext => maxContext;
    public int? BosId => vocab - 1;
    public int[] Encode(string text, bool addBos) =>
        (addBos ? new[] { vocab - 1 } : []).Concat(text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)).ToArray();
    public long ByteLength(ReadOnlySpan<int> tokens) { long n = 0; foreach (int t in tokens) if (t != vocab - 1) n++; return n; }
    public IReadOnlyList<LogLikelihood> LogLikelihood(IReadOnlyList<LogLikelihoodRequest> requests) => throw new NotSupportedException();

    public void ScoreTokens(ReadOnlySpan<int> tokens, int firstScored, ITokenScoreSink sink)
    {
        Assert.True(tokens.Length <= maxContext);
        var row = Enumerable.Repeat((float)-Math.Log(vocab), vocab).ToArray();
        for (int p = firstScored; p < tokens.Length; p++)
        {
            Scored.Add((tokens[p], p));
            sink.Accept(p, tokens[p], row);
        }
    }
}

internal static class Samples
{
    /// <summary>Path of a hand-written sample JSONL file (Evaluation/Samples, copied to the test output).</summary>
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Evaluation", "Samples", name);
}
