// IntPrefillGemmTests: the integer q4_0 and q8_0 prefill gives, on every ISA level, the bits of a scalar definition written here, across row, token and tile tails.
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

public class IntPrefillGemmTests
{
    private static readonly TensorFormat Q4 = FormatRegistry.Get("q4_0");

    public static TheoryData<string> Formats => new() { "q4_0", "q8_0" };

    private static int BlockBytes(TensorFormat f) => f.Name == "q4_0" ? 18 : 34;

    /// <summary>Weight i (0–31) of the block at <paramref name="o"/>: nibble − 8 (q4_0), or the signed byte (q8_0).</summary>
    private static int Weight(TensorFormat f, byte[] packed, int o, int i) => f.Name == "q4_0"
        ? (i < 16 ? packed[o + 2 + i] & 15 : packed[o + 2 + i - 16] >> 4) - 8
        : (sbyte)packed[o + 2 + i];

    /// <summary>
    /// The definition, independent of the kernel's code: x per block of 32 to q = round_to_even(x·(127/amax)) with
    /// d = fp16(amax/127) (llama.cpp's quantize_row_q8_0); per output, from 0 and block by block,
    /// acc = fma(S, d_w·d_x, acc) with S = Σ (nibble − 8)·q exactly.
    /// </summary>
    private static float[] Definition(TensorFormat f, byte[] packed, int rows, int cols, float[] x, int n)
    {
        int nb = cols / 32;
        var q = new int[n * cols];
        var d = new float[n * nb];
        for (int t = 0; t < n; t++)
            for (int b = 0; b < nb; b++)
            {
                float amax = 0;
                for (int i = 0; i < 32; i++) amax = MathF.Max(amax, MathF.Abs(x[t * cols + b * 32 + i]));
                float id = amax != 0 ? 127f / amax : 0f;
                for (int i = 0; i < 32; i++) q[t * cols + b * 32 + i] = (int)MathF.Round(x[t * cols + b * 32 + i] * id, MidpointRounding.ToEven);
                d[t * nb + b] = (float)(Half)(amax / 127f);
            }
        var y = new float[n * rows];
        for (int t = 0; t < n; t++)
            for (int r = 0; r < rows; r++)
            {
                float acc = 0;
                for (int b = 0; b < nb; b++)
                {
                    int o = (r * nb + b) * BlockBytes(f);
                    float dw = (float)BitConverter.UInt16BitsToHalf((ushort)(packed[o] | packed[o + 1] << 8));
                    int s = 0;
                    for (int i = 0; i < 32; i++) s += Weight(f, packed, o, i) * q[t * cols + b * 32 + i];
                    acc = MathF.FusedMultiplyAdd(s, dw * d[t * nb + b], acc);
                }
                y[t * rows + r] = acc;
            }
        return y;
    }

    private static void Q8Gemm(TensorFormat f, byte[] packed, int rows, int cols, float[] x, int n, float[] y)
    {
        using var _ = PrefillActivations.Use(PrefillActivations.Mode.Q8);
        f.Gemm(packed, rows, cols, x, n, y);
    }

    /// <summary>Every level this machine has, and AVX2 without AVX-VNNI where it has that.</summary>
    private static IEnumerable<(string Name, Func<IDisposable> Enter)> Levels()
    {
        foreach (var level in KernelIsa.Supported())
        {
            var l = level;
            yield return (l.ToString(), () => KernelIsa.Override(l));
            if (l == IsaLevel.Avx2)
                yield return ("Avx2 without VNNI", () => new Both(KernelIsa.Override(l), KernelIsa.WithoutExtensions()));
        }
    }

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose() { b.Dispose(); a.Dispose(); }
    }

    private static void AssertDefinitionBits(TensorFormat f, byte[] packed, int rows, int cols, float[] x, int n, string what)
    {
        var expected = Definition(f, packed, rows, cols, x, n);
        foreach (var (name, enter) in Levels())
        {
            var y = new float[n * rows];
            using (enter()) Q8Gemm(f, packed, rows, cols, x, n, y);
            for (int i = 0; i < y.Length; i++)
                if (BitConverter.SingleToInt32Bits(y[i]) != BitConverter.SingleToInt32Bits(expected[i])
                    && !(float.IsNaN(y[i]) && float.IsNaN(expected[i])))
                    Assert.Fail($"{f.Name} {what} {name} n={n} {rows}x{cols}: y[token {i / rows}, row {i % rows}] = {y[i]:R}, definition {expected[i]:R}");
        }
    }

    /// <summary>Partial 8-row groups, token panels of 4 with 1–3 left over, one to many blocks, several tiles per thread.</summary>
    [Theory, MemberData(nameof(Formats))]
    public void Every_level_gives_the_definitions_bits_across_tails(string format)
    {
        var f = FormatRegistry.Get(format);
        int seed = 1;
        foreach (int cols in new[] { 32, 96, 256 })
        foreach (int rows in new[] { 1, 7, 8, 9, 17, 70 })
        foreach (int n in new[] { 2, 3, 4, 5, 9 })
        {
            var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, ++seed), rows, cols);
            AssertDefinitionBits(f, packed, rows, cols, TestData.Gaussian(n * cols, ++seed), n, "gaussian");
        }
    }

    [Theory, MemberData(nameof(Formats))]
    public void Long_rows_split_into_tiles_and_keep_the_bits(string format)
    {
        var f = FormatRegistry.Get(format);
        const int cols = 16384, rows = 50;
        Assert.Equal(24, IntPrefillGemm.TileRowsFor(cols));
        var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, 5), rows, cols);
        AssertDefinitionBits(f, packed, rows, cols, TestData.Gaussian(5 * cols, 6), 5, "long rows");
    }

    /// <summary>The largest integer sums: codes 0 and 15 against ±127 (pairs of 15·127 fit a maddubs int16; a block sum of ±32512).</summary>
    [Fact]
    public void Extreme_codes_and_activations_are_exact()
    {
        const int rows = 9, cols = 256, n = 5;
        var packed = new byte[rows * Q4.RowBytes(cols)];
        var rng = new Random(3);
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < cols / 32; b++)
            {
                int o = (r * cols / 32 + b) * 18;
                ushort h = BitConverter.HalfToUInt16Bits((Half)(r == 0 ? 65504f : r == 1 ? 6e-8f : 1f + r));
                packed[o] = (byte)h; packed[o + 1] = (byte)(h >> 8);
                for (int j = 0; j < 16; j++) packed[o + 2 + j] = (byte)(r % 3 == 0 ? 0x00 : r % 3 == 1 ? 0xff : rng.Next(256));
            }
        var x = new float[n * cols];
        for (int i = 0; i < x.Length; i++) x[i] = i / cols % 2 == 0 ? 1000f : (i % 2 == 0 ? -3e-3f : 3e-3f);
        AssertDefinitionBits(Q4, packed, rows, cols, x, n, "extreme");
        var y = new float[n * rows];
        Q8Gemm(Q4, packed, rows, cols, x, n, y);
        // Row 4 is all codes 15 (+7, d_w = 5), token 0 all 1000 (q = 127, d_x = fp16(1000/127)): 8 blocks of 32·7·127.
        float dx = (float)(Half)(1000f / 127);
        float expected = 0;
        for (int b = 0; b < 8; b++) expected = MathF.FusedMultiplyAdd(32 * 7 * 127, 5f * dx, expected);
        Assert.Equal(expected, y[4]);
    }

    /// <summary>q8_0's extreme codes: ±127 and −128 (which llama.cpp never writes, but a file may hold) against ±127 — the
    /// AVX2 path's signed pairs reach 2·128·127, the VNNI path's unsigned codes 255.</summary>
    [Fact]
    public void Q8_0_extreme_codes_are_exact()
    {
        var f = FormatRegistry.Get("q8_0");
        const int rows = 11, cols = 128, n = 6;
        var packed = new byte[rows * f.RowBytes(cols)];
        var rng = new Random(4);
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < cols / 32; b++)
            {
                int o = (r * cols / 32 + b) * 34;
                ushort h = BitConverter.HalfToUInt16Bits((Half)(0.5f + r));
                packed[o] = (byte)h; packed[o + 1] = (byte)(h >> 8);
                for (int j = 0; j < 32; j++)
                    packed[o + 2 + j] = (byte)(sbyte)(r % 4 == 0 ? -128 : r % 4 == 1 ? 127 : r % 4 == 2 ? -127 : rng.Next(-128, 128));
            }
        var x = new float[n * cols];
        for (int i = 0; i < x.Length; i++) x[i] = i / cols % 2 == 0 ? 50f : -50f;
        AssertDefinitionBits(f, packed, rows, cols, x, n, "extreme");
        var y = new float[n * rows];
        Q8Gemm(f, packed, rows, cols, x, n, y);
        // Row 0: −128 everywhere (d_w 0.5), token 0: +127 everywhere (d_x fp16(50/127)): 4 blocks of −128·127·32.
        float dx = (float)(Half)(50f / 127), expected = 0;
        for (int b = 0; b < 4; b++) expected = MathF.FusedMultiplyAdd(-128 * 127 * 32, 0.5f * dx, expected);
        Assert.Equal(expected, y[0]);
    }

    /// <summary>Non-finite scales reach the outputs of their rows (0·Inf in the FMA is NaN), on every level.</summary>
    [Fact]
    public void Non_finite_weight_scales_give_nan_rows()
    {
        const int rows = 10, cols = 64, n = 3;
        var packed = TestData.Quantize(Q4, TestData.Gaussian(rows * cols, 8), rows, cols);
        packed[3 * 36 + 18] = 0x00; packed[3 * 36 + 19] = 0x7e; // row 3, block 1: NaN
        packed[9 * 36] = 0x00; packed[9 * 36 + 1] = 0x7c;      // row 9, block 0: +Inf
        var x = TestData.Gaussian(n * cols, 9);
        AssertDefinitionBits(Q4, packed, rows, cols, x, n, "non-finite scale");
        var y = new float[n * rows];
        Q8Gemm(Q4, packed, rows, cols, x, n, y);
        for (int t = 0; t < n; t++)
        {
            Assert.True(float.IsNaN(y[t * rows + 3]));
            Assert.False(float.IsFinite(y[t * rows + 9]));
            Assert.True(float.IsFinite(y[t * rows + 4]));
        }
    }

    /// <summary>A non-finite activation anywhere sends the whole product to the fp32 tiles, which keep ±Inf apart from NaN.</summary>
    [Fact]
    public void Non_finite_activations_take_the_fp32_path()
    {
        const int rows = 12, cols = 96, n = 5;
        var packed = TestData.Quantize(Q4, TestData.Gaussian(rows * cols, 10), rows, cols);
        foreach (float bad in new[] { float.PositiveInfinity, float.NegativeInfinity, float.NaN })
        {
            var x = TestData.Gaussian(n * cols, 11);
            x[3 * cols + 40] = bad;
            var expected = new float[n * rows];
            TiledGemm.Run(Q4, packed, rows, cols, x, n, expected);
            foreach (var (name, enter) in Levels())
            {
                var y = new float[n * rows];
                using (enter()) Q8Gemm(Q4, packed, rows, cols, x, n, y);
                for (int i = 0; i < y.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(y[i]) == BitConverter.SingleToInt32Bits(expected[i]) || (float.IsNaN(y[i]) && float.IsNaN(expected[i])),
                        $"{bad} {name}: y[{i}] = {y[i]:R}, fp32 tiles {expected[i]:R}");
            }
            Assert.Contains(y3(expected, rows), v => !float.IsFinite(v));
        }

        static float[] y3(float[] y, int rows) => y.AsSpan(3 * rows, rows).ToArray();
    }

    /// <summary>The test has teeth: the definition's bits are not the fp32 tiles' (activations are quantized), and both are near the product.</summary>
    [Fact]
    public void The_integer_path_differs_from_the_fp32_one_within_the_activation_error()
    {
        const int rows = 16, cols = 256, n = 6;
        var packed = TestData.Quantize(Q4, TestData.Gaussian(rows * cols, 12), rows, cols);
        var x = TestData.Gaussian(n * cols, 13);
        var y = new float[n * rows];
        var fp32 = new float[n * rows];
        Q8Gemm(Q4, packed, rows, cols, x, n, y);
        TiledGemm.Run(Q4, packed, rows, cols, x, n, fp32);
        int differ = 0;
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < y.Length; i++)
        {
            if (y[i] != fp32[i]) differ++;
            maxDiff = Math.Max(maxDiff, Math.Abs(y[i] - fp32[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs(fp32[i]));
        }
        Assert.True(differ > y.Length * 3 / 4, $"only {differ} of {y.Length} outputs differ from the fp32 tiles");
        // The bound per output is GemvGemmTests' (Σ|w|·0.57·d per block); here only that it is small against the outputs.
        Assert.True(maxDiff < 0.02 * maxAbs, $"integer and fp32 prefill differ by {maxDiff:G3}, outputs up to {maxAbs:G3}");
    }
}
