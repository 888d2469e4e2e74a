// Q1_0LookupTableTests: q1_0's lookup-table kernels — tables equal to their definition, every level the scalar bits.
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

public unsafe class Q1_0LookupTableTests
{
    private static readonly TensorFormat Q1 = FormatRegistry.Get("q1_0");

    /// <summary>Activations whose Q8 codes are the given integers: every block of 32 holds a ±127, so d = 1 and q = x.</summary>
    private static float[] CodesAsActivations(int cols, int seed)
    {
        var rng = new Random(seed);
        var x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = rng.Next(-127, 128);
        for (int b = 0; b < cols / 32; b++) x[32 * b + rng.Next(32)] = rng.Next(2) == 0 ? 127 : -127;
        x[5] = x[6] = x[7] = x[8] = 127;          // a table whose top entry is 508
        x[40] = x[41] = x[42] = x[43] = -127;     // and one whose is −508
        return x;
    }

    /// <summary>The AVX2 and AVX-512 table builders write the bytes of the definition (T[p] = Σ ±q over four columns,
    /// low and high bytes), including the extreme entries ±508.</summary>
    [Fact]
    public void EveryTableBuilderWritesTheDefinition()
    {
        foreach (int cols in new[] { 128, 384, 4096 })
        {
            var x = CodesAsActivations(cols, cols);
            var builders = new List<(string Name, IsaLevel Level, bool Vbmi)>();
            if (KernelIsa.IsSupported(IsaLevel.Avx2)) builders.Add(("avx2", IsaLevel.Avx2, false));
            if (KernelIsa.IsSupported(IsaLevel.Avx512) && System.Runtime.Intrinsics.X86.Avx512Vbmi.IsSupported)
                builders.Add(("avx512", IsaLevel.Avx512, true));
            foreach (var (name, level, vbmi) in builders)
            {
                using var _ = KernelIsa.Override(level);
                var ctx = new GemvContext { Cols = cols, Act = ActivationQ8.Quantize(x) };
                for (int i = 0; i < cols; i++) Assert.Equal((sbyte)x[i], ctx.Act.Q[i]);
                if (vbmi) Q1_0Kernels.BuildTablesAvx512(&ctx);
                else Q1_0Kernels.BuildTablesAvx2(&ctx);
                var expected = new byte[8 * cols];
                fixed (byte* e = expected) Q1_0Kernels.BuildTablesReference(ctx.Act.Q, cols, e);
                var actual = new ReadOnlySpan<byte>(ctx.Tables, 8 * cols).ToArray();
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"{name} tables differ at {cols} columns");
            }
        }
    }

    /// <summary>
    /// All kernels share the scalar definition's integers and float steps, so every level — with and without AVX-VNNI
    /// and VBMI — gives the scalar bits, for row counts around the sixteen-row passes and for the extreme sums
    /// (every weight +, every code 127: S = 4064 per group) and scales (NaN, Inf, subnormal, −0).
    /// </summary>
    [Fact]
    public void EveryLevelGivesTheScalarBits()
    {
        int seed = 3100;
        foreach (int cols in new[] { 128, 384, 4096 })
        foreach (int rows in new[] { 1, 15, 16, 17, 33, 48 })
        {
            int rb = (int)Q1.RowBytes(cols);
            var w = TestData.Gaussian(rows * cols, ++seed);
            for (int k = 0; k < cols; k++) { w[k] = 1f + k % 3; if (rows > 1) w[cols + k] = -1f - k % 5; } // all + / all −
            var packed = TestData.Quantize(Q1, w, rows, cols);
            if (rows > 20)
            {
                LayoutGemv.SetScale(packed, rb, row: 5, block: cols / 128 - 1, 0x7E00); // NaN, in the last block
                LayoutGemv.SetScale(packed, rb, row: 17, block: 0, 0x7C00);  // +Inf
                LayoutGemv.SetScale(packed, rb, row: 18, block: 0, 0x0001);  // the smallest subnormal
                LayoutGemv.SetScale(packed, rb, row: 19, block: 0, 0x8000);  // −0
            }
            foreach (var x in new[] { TestData.Gaussian(cols, ++seed), Enumerable.Repeat(0.75f, cols).ToArray() })
            {
                var reference = LayoutGemv.Run(Q1, packed, rows, cols, x, IsaLevel.Scalar, layout: false);
                LayoutGemv.AssertEveryLevelGives(reference, "layout", [false, true], (level, layout) =>
                    LayoutGemv.Run(Q1, packed, rows, cols, x, level, layout, misalign: 1 + rows % 5), $"{rows}x{cols}");
                if (rows > 20)
                {
                    Assert.True(float.IsNaN(reference[5]));
                    Assert.True(float.IsInfinity(reference[17]) || float.IsNaN(reference[17]));
                }
            }
        }
    }

    /// <summary>The extreme sums are exact: one row of +1 weights times codes of 127 is d_w·d_x·4064 per group, and the
    /// sixteen-row kernels (16-bit sums) give it too.</summary>
    [Fact]
    public void TheLargestGroupSumIsExact()
    {
        const int rows = 16, cols = 256;
        var w = Enumerable.Repeat(1f, rows * cols).ToArray();
        var packed = TestData.Quantize(Q1, w, rows, cols);
        var x = Enumerable.Repeat(1f, cols).ToArray(); // codes 127, d = fp16(1/127)
        float dx = HalfConvert.RoundToHalf(1f / 127);
        float inner = dx * 4064f;
        for (int k = 1; k < 4; k++) inner = MathF.FusedMultiplyAdd(dx, 4064f, inner);
        float expected = MathF.FusedMultiplyAdd(1f, inner, MathF.FusedMultiplyAdd(1f, inner, 0f)); // d_w = 1, two blocks
        foreach (var level in KernelIsa.Supported())
        {
            var y = LayoutGemv.Run(Q1, packed, rows, cols, x, level, layout: false);
            for (int r = 0; r < rows; r++) Assert.Equal(expected, y[r]);
        }
    }


    /// <summary>
    /// The decode layout holds every sign bit and scale of each full sixteen-row group where its definition puts them,
    /// checked weight by weight: the sign of column 128b + 32L + 8j + i of row 16g + r (bit i of the file's byte 4L + j)
    /// is bit i of layout byte 16·rb·g + 256b + 64j + 16L + r, and the scale of its block is fp16 number 16b + r after the
    /// group's 256·nb bytes of bits. Rows past the last full group are not in the layout.
    /// </summary>
    [Fact]
    public void TheDecodeLayoutPutsEveryBitWhereItsDefinitionSays()
    {
        foreach (var (rows, cols) in new[] { (16, 128), (37, 384), (48, 4096), (15, 256) })
        {
            int rb = (int)Q1.RowBytes(cols), nb = cols / 128;
            var packed = TestData.Quantize(Q1, TestData.Gaussian(rows * cols, rows + cols), rows, cols);
            long bytes = Q1.DecodeLayoutBytes(rows, cols);
            Assert.Equal(rows / 16 * 16L * rb, bytes);
            if (bytes == 0) continue;
            foreach (var level in KernelIsa.Supported()) // AVX-512 with VBMI writes with the kernel's transposes, the rest byte by byte
            {
                var layout = new byte[bytes];
                using (KernelIsa.Override(level))
                fixed (byte* p = packed) fixed (byte* l = layout) Q1.WriteDecodeLayout(p, rows, cols, l);
                for (int row = 0; row < rows / 16 * 16; row++)
                {
                    int g = row / 16, r = row % 16;
                    long group = 16L * rb * g;
                    for (int col = 0; col < cols; col++)
                    {
                        int b = col / 128, lane = col % 128 / 32, j = col % 32 / 8, i = col % 8;
                        int fileBit = (packed[row * rb + b * 18 + 2 + (col % 128) / 8] >> i) & 1;
                        int layoutBit = (layout[group + 256L * b + 64 * j + 16 * lane + r] >> i) & 1;
                        Assert.True(fileBit == layoutBit, $"{level}: {rows}x{cols} row {row} column {col}");
                    }
                    for (int b = 0; b < nb; b++)
                        Assert.Equal(BitConverter.ToUInt16(packed, row * rb + b * 18),
                                     BitConverter.ToUInt16(layout, (int)(group + 256L * nb + 2 * (16 * b + r))));
                }
            }
        }
    }

    /// <summary>
    /// A layer reads its decode layout only when <see cref="DecodeLayout"/> is on: built on the first decode GEMV (one more
    /// copy of the full sixteen-row groups), never for prefill, and the outputs are the same bits either way.
    /// </summary>
    [Fact]
    public void ALayerBuildsItsDecodeLayoutOnlyWhenAskedAndGivesTheSameBits()
    {
        var (_, _, plain, laid) = LayoutGemv.LayerDecodeBothWays(Q1, seed: 77);
        for (int r = 0; r < plain.Length; r++)
            Assert.Equal(BitConverter.SingleToInt32Bits(plain[r]), BitConverter.SingleToInt32Bits(laid[r]));
    }
}
