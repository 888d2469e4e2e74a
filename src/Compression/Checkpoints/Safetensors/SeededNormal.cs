// SeededNormal: reproducible normal(0, std) rows keyed by (seed, tensor name, row), vectorised Box–Muller.
using System.Numerics.Tensors;
using System.Text;

namespace Compression.Checkpoints.Safetensors;

/// <summary>
/// Random rows that depend only on (seed, tensor name, row index) — not on chunking, sharding or
/// thread scheduling — so any two writes of the same synthetic model hold the same values. The
/// generator is SplitMix64 feeding Box–Muller evaluated with <see cref="TensorPrimitives"/>;
/// results are bit-identical for a given runtime and CPU (vectorised log/sin/cos may differ in the
/// last bit between instruction sets).
/// </summary>
internal static class SeededNormal
{
    /// <summary>A 64-bit key for one tensor: FNV-1a of the UTF-8 name, mixed with the seed.</summary>
    public static ulong TensorKey(int seed, string name)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(name)) h = (h ^ b) * 1099511628211UL;
        return Mix(h ^ Mix((ulong)(uint)seed + 0x9E3779B97F4A7C15UL));
    }

    /// <summary>Fills <paramref name="dst"/> with normal(0, std) values of row <paramref name="row"/>; scratch holds 2·⌈n/2⌉ floats.</summary>
    public static void FillRow(ulong tensorKey, long row, float std, Span<float> dst, Span<float> scratch)
    {
        int n = dst.Length, half = (n + 1) / 2;
        var u1 = scratch[..half];
        var u2 = scratch.Slice(half, half);
        ulong state = Mix(tensorKey ^ Mix((ulong)row));
        for (int i = 0; i < half; i++)
        {
            ulong x = Mix(state += 0x9E3779B97F4A7C15UL);
            u1[i] = ((x >> 40) + 1) * (1.0f / (1 << 24));        // (0, 1]: log is finite
            u2[i] = ((x >> 8) & 0xFFFFFF) * (1.0f / (1 << 24));  // [0, 1)
        }
        // r = std·sqrt(−2 ln u1); pairs (r cos 2πu2, r sin 2πu2) fill the first and second half of the row.
        TensorPrimitives.Log(u1, u1);
        TensorPrimitives.Multiply(u1, -2f * std * std, u1);
        TensorPrimitives.Sqrt(u1, u1);
        TensorPrimitives.Multiply(u2, 2f * MathF.PI, u2);
        var first = dst[..half];
        var second = dst[half..];
        TensorPrimitives.Cos(u2, first);
        TensorPrimitives.Multiply(first, u1, first);
        TensorPrimitives.Sin(u2[..second.Length], second);
        TensorPrimitives.Multiply(second, u1[..second.Length], second);
    }

    /// <summary>SplitMix64's finaliser.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
