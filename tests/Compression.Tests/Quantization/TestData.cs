// TestData: seeded Gaussian data and the registry as xunit theory data, shared by the format and kernel tests.
using Compression.Quantization;

namespace Compression.Tests.Quantization;

internal static class TestData
{
    public static TheoryData<string> FormatNames()
    {
        var data = new TheoryData<string>();
        foreach (var f in FormatRegistry.All) data.Add(f.Name);
        return data;
    }

    /// <summary>Standard normal values (Box–Muller), deterministic per seed.</summary>
    public static float[] Gaussian(int n, int seed, float sigma = 1f)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++)
            v[i] = sigma * (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return v;
    }

    /// <summary>Row lengths that hit every vector tail: 1..9 blocks (of at least 32 for the integer kernels), plus odd lengths for per-element formats.</summary>
    public static IEnumerable<int> RowLengths(TensorFormat f)
    {
        int unit = f.BlockSize == 1 ? 32 : f.BlockSize;
        for (int k = 1; k <= 9; k++) yield return k * unit;
        if (f.BlockSize == 1) foreach (int n in new[] { 1, 2, 3, 7, 8, 9, 15, 17, 33, 100 }) yield return n;
    }

    public static byte[] Quantize(TensorFormat f, float[] w, int rows, int cols, bool reference = true)
    {
        long rb = f.RowBytes(cols);
        var packed = new byte[rows * rb];
        for (int r = 0; r < rows; r++)
        {
            var src = w.AsSpan(r * cols, cols);
            var dst = packed.AsSpan((int)(r * rb), (int)rb);
            if (reference) f.QuantizeRowReference(src, dst); else f.QuantizeRow(src, dst);
        }
        return packed;
    }

    public static float[] Dequantize(TensorFormat f, byte[] packed, int rows, int cols)
    {
        long rb = f.RowBytes(cols);
        var w = new float[rows * cols];
        for (int r = 0; r < rows; r++) f.DequantizeRowReference(packed.AsSpan((int)(r * rb), (int)rb), w.AsSpan(r * cols, cols));
        return w;
    }
}
