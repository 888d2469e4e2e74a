// F16ScaledReadTests: f16 weights read as 2^-112 times their value against x·2^112 — the exact conversion's bits, on every level.
using System.Runtime.Intrinsics;
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

public unsafe class F16ScaledReadTests
{
    /// <summary>Every finite fp16 value, read by the scaled loads, is exactly 2^-112 times its value (in double, with no
    /// rounding possible: both sides are exact); zeros keep their sign.</summary>
    [Fact]
    public void ScaledLoadsAreTheValueTimesTwoToTheMinus112ForEveryFiniteHalf()
    {
        var bits = new ushort[32];
        var got = new float[32];
        foreach (int width in KernelIsa.IsSupported(IsaLevel.Avx512) ? new[] { 16, 32 } : new[] { 16 })
            for (int h = 0; h < 65536; h += width)
            {
                for (int i = 0; i < width; i++) bits[i] = (ushort)(h + i);
                fixed (ushort* p = bits)
                {
                    if (width == 32)
                    {
                        HalfConvert.Load32Scaled(p, out var lo, out var hi);
                        lo.CopyTo(got.AsSpan()); hi.CopyTo(got.AsSpan(16));
                    }
                    else
                    {
                        HalfConvert.Load16PairScaled(p, out var lo, out var hi);
                        lo.CopyTo(got.AsSpan()); hi.CopyTo(got.AsSpan(8));
                    }
                }
                for (int i = 0; i < width; i++)
                {
                    var half = BitConverter.UInt16BitsToHalf(bits[i]);
                    if (!Half.IsFinite(half)) continue; // the kernels redo such rows through the general loads
                    double expected = (double)half;
                    Assert.True((double)got[i] * Math.Pow(2, 112) == expected, $"width {width}, half 0x{bits[i]:X4}: {got[i]:R}");
                    Assert.Equal(double.IsNegative(expected), float.IsNegative(got[i]));
                }
            }
    }

    /// <summary>y = W·x with the scaled reads forced on or off, at <paramref name="level"/>.</summary>
    private static float[] Gemv(byte[] packed, int rows, int cols, float[] x, IsaLevel level, bool scaled)
    {
        var y = new float[rows];
        var before = HalfConvert.ScaledReads;
        HalfConvert.ScaledReads = scaled;
        try
        {
            using (KernelIsa.Override(level)) FormatRegistry.Get("f16").Gemv(packed, rows, cols, x, y);
        }
        finally { HalfConvert.ScaledReads = before; }
        return y;
    }

    private static void AssertSameBits(float[] a, float[] b, string what)
    {
        for (int r = 0; r < a.Length; r++)
            Assert.True(BitConverter.SingleToInt32Bits(a[r]) == BitConverter.SingleToInt32Bits(b[r]) || float.IsNaN(a[r]) && float.IsNaN(b[r]),
                $"{what} row {r}: {a[r]:R} scaled vs {b[r]:R} exact");
    }

    /// <summary>
    /// Weights with zeros of both signs, subnormals, normals up to fp16's largest, and x with values up to just under
    /// 2^16, float subnormals and zeros: the scaled reads give the exact conversion's bits on AVX2 and AVX-512, at
    /// lengths with and without a scalar tail, and for 1 to 40 rows (the matrix over both cores).
    /// </summary>
    [Fact]
    public void ScaledReadsGiveTheExactConversionsBitsOnEveryLevel()
    {
        var f = FormatRegistry.Get("f16");
        int seed = 3100;
        foreach (var level in KernelIsa.Supported().Where(l => l >= IsaLevel.Avx2))
        foreach (int cols in new[] { 32, 96, 100, 4096 + 17 })
        foreach (int rows in new[] { 1, 5, 40 })
        {
            var w = TestData.Gaussian(rows * cols, ++seed);
            var tiny = TestData.Gaussian(rows * cols, ++seed, sigma: 5e-5f);
            for (int i = 0; i < w.Length; i++) w[i] = (i % 3) switch { 0 => tiny[i], 1 => w[i] * 1000, _ => w[i] };
            var packed = TestData.Quantize(f, w, rows, cols);
            for (int i = 0; i < rows * cols; i += 11) { packed[2 * i] = 0; packed[2 * i + 1] = (byte)(i % 2 == 0 ? 0x80 : 0); } // ±0
            packed[0] = 0xff; packed[1] = 0x7b; // 65504
            var x = TestData.Gaussian(cols, ++seed);
            x[0] = 65535.99f; x[cols - 1] = -65535.99f; x[cols / 2] = 1e-42f; x[cols / 3] = -0f;
            AssertSameBits(Gemv(packed, rows, cols, x, level, scaled: true), Gemv(packed, rows, cols, x, level, scaled: false), $"{level} {rows}x{cols}");
        }
    }

    /// <summary>
    /// Where x·2^112 would not be exact — |x| ≥ 2^16, an Inf or a NaN in x — the scaled path is not taken and the result is
    /// the exact conversion's; an Inf or NaN weight sends its row through the general loads from the scaled path too.
    /// </summary>
    [Fact]
    public void LargeOrNonFiniteInputsAndSpecialWeightsKeepTheExactResult()
    {
        var f = FormatRegistry.Get("f16");
        const int rows = 20, cols = 160;
        var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, 3200), rows, cols);
        packed[2 * (3 * cols + 40)] = 0x00; packed[2 * (3 * cols + 40) + 1] = 0x7c;       // +Inf in row 3
        packed[2 * (7 * cols + 100)] = 0x01; packed[2 * (7 * cols + 100) + 1] = 0xfe;    // NaN in row 7
        foreach (var level in KernelIsa.Supported().Where(l => l >= IsaLevel.Avx2))
            foreach (float big in new[] { 65536f, -1e30f, float.PositiveInfinity, float.NaN, 1000f })
            {
                var x = TestData.Gaussian(cols, 3201);
                x[17] = big;
                var scaled = Gemv(packed, rows, cols, x, level, scaled: true);
                AssertSameBits(scaled, Gemv(packed, rows, cols, x, level, scaled: false), $"{level} x[17]={big}");
                for (int r = 0; r < rows; r++)
                {
                    double exact = 0;
                    for (int k = 0; k < cols; k++) exact += (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(packed, 2 * (r * cols + k))) * x[k];
                    if (double.IsNaN(exact)) Assert.True(float.IsNaN(scaled[r]), $"{level} x[17]={big} row {r}: {scaled[r]} vs NaN");
                    else if (double.IsInfinity(exact)) Assert.Equal(exact, (double)scaled[r]);
                }
            }
    }
}
