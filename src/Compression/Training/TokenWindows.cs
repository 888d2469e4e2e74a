// TokenWindows: which contiguous token windows each training step reads, and the fixed validation windows.
using static TorchSharp.torch;

namespace Compression.Training;

/// <summary>
/// Windows of <c>length + 1</c> tokens (inputs plus the next-token targets) cut from a token stream.
/// Training windows are a pure function of (seed, step, row), so the data order needs no RNG state to
/// save: a resumed run at step s reads exactly the windows the uninterrupted run would have read.
/// </summary>
public sealed class TokenWindows
{
    private readonly ReadOnlyMemory<int> _tokens;
    private readonly int _length;

    /// <param name="tokens">The token stream (already tokenized).</param>
    /// <param name="length">Input tokens per window; each window reads one more token as the last target.</param>
    /// <param name="name">Names the stream in error messages ("train", "valid").</param>
    public TokenWindows(ReadOnlyMemory<int> tokens, int length, string name)
    {
        if (tokens.Length < length + 1)
            throw new ArgumentException($"{name} stream has {tokens.Length} tokens; a window needs sequence_length + 1 = {length + 1}");
        _tokens = tokens;
        _length = length;
    }

    /// <summary>Number of distinct window start positions.</summary>
    public long StartCount => _tokens.Length - _length;

    /// <summary>Start of training window <paramref name="row"/> of step <paramref name="step"/>.</summary>
    public long TrainingStart(int seed, int step, int row)
    {
        ulong key = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)(uint)step << 20) ^ (uint)row;
        return (long)(SplitMix64(SplitMix64(key)) % (ulong)StartCount);
    }

    /// <summary>
    /// Starts of <paramref name="count"/> validation windows spread evenly over the stream (the same every
    /// evaluation, so validation losses are comparable across steps and runs).
    /// </summary>
    public long[] EvenlySpacedStarts(int count)
    {
        var starts = new long[count];
        for (int i = 0; i < count; i++)
            starts[i] = count == 1 ? 0 : (long)((double)i * (StartCount - 1) / (count - 1));
        return starts;
    }

    /// <summary>(inputs, targets), each (B, T) int64, for windows starting at <paramref name="starts"/>.</summary>
    public (Tensor Inputs, Tensor Targets) Batch(ReadOnlySpan<long> starts)
    {
        int b = starts.Length, t = _length;
        var inputs = new long[b * t];
        var targets = new long[b * t];
        var span = _tokens.Span;
        for (int r = 0; r < b; r++)
        {
            var window = span.Slice((int)starts[r], t + 1);
            for (int i = 0; i < t; i++)
            {
                inputs[r * t + i] = window[i];
                targets[r * t + i] = window[i + 1];
            }
        }
        return (tensor(inputs, [b, t]), tensor(targets, [b, t]));
    }

    /// <summary>The training batch of a step.</summary>
    public (Tensor Inputs, Tensor Targets) TrainingBatch(int seed, int step, int batchSize)
    {
        var starts = new long[batchSize];
        for (int r = 0; r < batchSize; r++) starts[r] = TrainingStart(seed, step, r);
        return Batch(starts);
    }

    private static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
