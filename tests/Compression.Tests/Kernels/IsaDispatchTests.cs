// IsaDispatchTests: every format's GEMV on every ISA level this machine has — equal to the scalar reference, AVX2 ≡ AVX-512 bit for bit.
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

public class IsaDispatchTests
{
    public static TheoryData<string> Formats => TestData.FormatNames();

    private static readonly int[] RowCounts = [1, 3, 7, 33];

    /// <summary>y = W·x at a given level, with the packed rows starting <paramref name="misalign"/> bytes into the buffer.</summary>
    private static float[] Gemv(TensorFormat f, byte[] packed, int rows, int cols, float[] x, IsaLevel level, int misalign = 0)
    {
        var shifted = new byte[packed.Length + misalign];
        packed.CopyTo(shifted, misalign);
        var y = new float[rows];
        using (KernelIsa.Override(level)) f.Gemv(shifted.AsSpan(misalign), rows, cols, x, y);
        return y;
    }

    /// <summary>
    /// Integer kernels share the scalar reference's integer block sums exactly and differ only in the
    /// order their float scale products are added: bound 1e-5·Σ|w|·(|x| + amax_block/127) (x̂ differs
    /// from x by at most 0.57·amax/127 per activation block of 32, or 256 for Q8_K). Float kernels: 1e-5·Σ|w·x|.
    /// </summary>
    [Theory, MemberData(nameof(Formats))]
    public void EverySupportedLevelMatchesTheScalarReference(string name)
    {
        var f = FormatRegistry.Get(name);
        int seed = 900;
        foreach (int cols in TestData.RowLengths(f))
        foreach (int rows in RowCounts)
        {
            var w = TestData.Gaussian(rows * cols, ++seed);
            var x = TestData.Gaussian(cols, ++seed);
            var packed = TestData.Quantize(f, w, rows, cols);
            var wd = TestData.Dequantize(f, packed, rows, cols);
            var reference = Gemv(f, packed, rows, cols, x, IsaLevel.Scalar);
            foreach (var level in KernelIsa.Supported())
            {
                var y = Gemv(f, packed, rows, cols, x, level, misalign: level == IsaLevel.Scalar ? 0 : 1 + rows % 3);
                for (int r = 0; r < rows; r++)
                {
                    double bound = 0;
                    for (int k = 0; k < cols; k++)
                    {
                        double xa = Math.Abs(x[k]);
                        int ab = f.ActivationBlock;
                        if (!f.IsFloat && cols % ab == 0)
                        {
                            float amax = 0;
                            for (int j = k / ab * ab; j < k / ab * ab + ab; j++) amax = Math.Max(amax, Math.Abs(x[j]));
                            xa += amax / 127.0;
                        }
                        bound += Math.Abs(wd[r * cols + k]) * xa;
                    }
                    bound = 1e-5 * bound + 1e-7;
                    Assert.True(Math.Abs(y[r] - reference[r]) <= bound,
                        $"{name} {level} {rows}x{cols} row {r}: {y[r]} vs scalar {reference[r]} (bound {bound:G3})");
                }
            }
        }
    }

    [Theory, MemberData(nameof(Formats))]
    public void Avx2AndAvx512GiveBitIdenticalResults(string name)
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return; // nothing to compare on an AVX2-only machine
        var f = FormatRegistry.Get(name);
        int seed = 1300;
        foreach (int cols in TestData.RowLengths(f).Append(f.BlockSize == 1 ? 4096 + 17 : 4096))
        foreach (int rows in RowCounts)
        {
            var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, ++seed), rows, cols);
            var x = TestData.Gaussian(cols, ++seed);
            var a = Gemv(f, packed, rows, cols, x, IsaLevel.Avx2);
            var b = Gemv(f, packed, rows, cols, x, IsaLevel.Avx512, misalign: 3);
            for (int r = 0; r < rows; r++)
                Assert.True(BitConverter.SingleToInt32Bits(a[r]) == BitConverter.SingleToInt32Bits(b[r]),
                    $"{name} {rows}x{cols} row {r}: avx2 {a[r]:R} vs avx512 {b[r]:R}");
        }
    }

    /// <summary>
    /// Multi-row kernels (four rows per pass over x) and the one-row kernel give each row the same bits, with and
    /// without AVX-VNNI and VBMI: a matrix's GEMV equals every row's own GEMV on every level. 33 rows: eight four-row groups and a
    /// one-row tail in one chunk; 4096 columns with an odd block count's worth of tails below.
    /// </summary>
    [Theory, MemberData(nameof(Formats))]
    public void EveryRowEqualsItsOwnGemvWithAndWithoutExtensions(string name)
    {
        var f = FormatRegistry.Get(name);
        int seed = 1700;
        foreach (int cols in TestData.RowLengths(f).Append(f.BlockSize == 1 ? 4096 + 17 : 4096))
        {
            const int rows = 33;
            int rb = checked((int)f.RowBytes(cols));
            var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, ++seed), rows, cols);
            var x = TestData.Gaussian(cols, ++seed);
            foreach (var level in KernelIsa.Supported().Where(l => l != IsaLevel.Scalar))
            foreach (bool extensions in new[] { true, false })
            {
                float[] all;
                var single = new float[rows];
                using (extensions ? null : KernelIsa.WithoutExtensions())
                {
                    all = Gemv(f, packed, rows, cols, x, level, misalign: 2);
                    for (int r = 0; r < rows; r++)
                        single[r] = Gemv(f, packed.AsSpan(r * rb, rb).ToArray(), 1, cols, x, level)[0];
                }
                for (int r = 0; r < rows; r++)
                    Assert.True(BitConverter.SingleToInt32Bits(all[r]) == BitConverter.SingleToInt32Bits(single[r]),
                        $"{name} {level} extensions={extensions} {rows}x{cols} row {r}: {all[r]:R} in the matrix vs {single[r]:R} alone");
            }
        }
    }

    /// <summary>
    /// f16 weights that are mostly zeros and subnormals (σ = 5e-5: |w| &lt; 2^-14 ≈ 6.1e-5 for most), which the SIMD
    /// kernels convert without a branch: every level within 1e-5·Σ|w·x| of a float64 dot of the exact values (a
    /// subnormal read as the normal with the same bits would be off by ~2^-15 each), and AVX2 ≡ AVX-512 bit for bit.
    /// </summary>
    [Fact]
    public void F16ZerosAndSubnormalsAreExactOnEveryLevel()
    {
        var f = FormatRegistry.Get("f16");
        int seed = 2100;
        foreach (int cols in new[] { 32, 64, 96, 100, 4096 + 17 })
        {
            const int rows = 9;
            var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, ++seed, sigma: 5e-5f), rows, cols);
            for (int i = 0; i < rows * cols; i += 13) { packed[2 * i] = 0; packed[2 * i + 1] = (byte)(i % 2 == 0 ? 0x80 : 0); } // ±0
            var x = TestData.Gaussian(cols, ++seed);
            float[]? avx2 = null;
            foreach (var level in KernelIsa.Supported())
            {
                var y = Gemv(f, packed, rows, cols, x, level, misalign: 1);
                for (int r = 0; r < rows; r++)
                {
                    double exact = 0, bound = 0;
                    for (int k = 0; k < cols; k++)
                    {
                        double w = (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(packed, 2 * (r * cols + k)));
                        exact += w * x[k];
                        bound += Math.Abs(w * x[k]);
                    }
                    Assert.True(Math.Abs(y[r] - exact) <= 1e-5 * bound + 1e-30, $"{level} {rows}x{cols} row {r}: {y[r]:R} vs exact {exact:R}");
                }
                if (level == IsaLevel.Avx2) avx2 = y;
                if (level == IsaLevel.Avx512 && avx2 is not null)
                    for (int r = 0; r < rows; r++)
                        Assert.True(BitConverter.SingleToInt32Bits(avx2[r]) == BitConverter.SingleToInt32Bits(y[r]), $"{rows}x{cols} row {r}: avx2 {avx2[r]:R} vs avx512 {y[r]:R}");
            }
        }
    }

    /// <summary>
    /// The SIMD f16 kernels read Inf and NaN through a branch-free path that gets them wrong, and redo a row that holds
    /// one: an Inf or NaN at any position — in a 32-value stripe, beside negative values (whose sign bit a careless
    /// maximum would let win), or in the scalar tail — gives the float64 dot's Inf or NaN on every level.
    /// </summary>
    [Fact]
    public void F16InfAndNaNReachTheResultFromEveryPosition()
    {
        var f = FormatRegistry.Get("f16");
        const int cols = 96 + 5;
        var x = TestData.Gaussian(cols, 2200);
        var baseRow = TestData.Quantize(f, TestData.Gaussian(cols, 2201), 1, cols);
        foreach (ushort special in new ushort[] { 0x7c00, 0xfc00, 0x7e00, 0xfd01 })
        foreach (int pos in new[] { 0, 1, 15, 16, 31, 32, 47, 63, 95, 96, 100 })
        {
            var packed = (byte[])baseRow.Clone();
            packed[2 * pos] = (byte)special; packed[2 * pos + 1] = (byte)(special >> 8);
            if (pos + 16 < cols) { packed[2 * (pos + 16)] = 0x01; packed[2 * (pos + 16) + 1] = 0x80; } // a negative subnormal in the other half
            double exact = 0;
            for (int k = 0; k < cols; k++) exact += (double)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(packed, 2 * k)) * x[k];
            foreach (var level in KernelIsa.Supported())
            {
                float y = Gemv(f, packed, 1, cols, x, level)[0];
                Assert.True(double.IsNaN(exact) ? float.IsNaN(y) : y == exact, $"0x{special:X4} at {pos}, {level}: {y} vs {exact}");
            }
        }
    }

    [Fact]
    public void OptionalExtensionsAndTheirAbsenceGiveBitIdenticalResults()
    {
        if (!KernelIsa.Vnni && !KernelIsa.Vbmi) return; // this CPU (or COMPRESS_VNNI=off) has only the one path
        foreach (var name in new[] { "q4_0", "q8_0", "int8", "int4", "q1_0" })
        {
            var f = FormatRegistry.Get(name);
            const int rows = 37, cols = 4096;
            var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, 11), rows, cols);
            var x = TestData.Gaussian(cols, 12);
            var with = Gemv(f, packed, rows, cols, x, KernelIsa.Detected);
            float[] without;
            using (KernelIsa.WithoutExtensions()) without = Gemv(f, packed, rows, cols, x, KernelIsa.Detected);
            for (int r = 0; r < rows; r++)
                Assert.True(BitConverter.SingleToInt32Bits(with[r]) == BitConverter.SingleToInt32Bits(without[r]),
                    $"{name} row {r}: {with[r]:R} with VNNI/VBMI vs {without[r]:R} without");
        }
    }

    [Fact]
    public void EnvironmentValuesParseAndBadOnesAreNamed()
    {
        Assert.Equal(KernelIsa.Detected, KernelIsa.FromEnvironment(null));
        Assert.Equal(KernelIsa.Detected, KernelIsa.FromEnvironment(" "));
        Assert.Equal(IsaLevel.Scalar, KernelIsa.FromEnvironment("scalar"));
        Assert.Equal(IsaLevel.Avx2, KernelIsa.FromEnvironment("AVX2"));
        var e = Assert.Throws<NotSupportedException>(() => KernelIsa.FromEnvironment("neon"));
        Assert.Contains("COMPRESS_ISA=neon", e.Message);
        if (!KernelIsa.IsSupported(IsaLevel.Avx512))
            Assert.Throws<NotSupportedException>(() => KernelIsa.FromEnvironment("avx512"));
    }

    [Fact]
    public void OverrideAppliesToTheCallingThreadAndIsRestored()
    {
        var before = KernelIsa.Current;
        using (KernelIsa.Override(IsaLevel.Scalar))
        {
            Assert.Equal(IsaLevel.Scalar, KernelIsa.Current);
            IsaLevel other = before;
            var t = new Thread(() => other = KernelIsa.Current);
            t.Start();
            t.Join();
            Assert.Equal(before, other);
        }
        Assert.Equal(before, KernelIsa.Current);
    }

    [Fact]
    public void BandwidthMeasurementReturnsAPlausibleFigure()
    {
        double gbs = MemoryBandwidth.Measure(64L << 20, passes: 2);
        Assert.InRange(gbs, 0.1, 10_000);
        Assert.Throws<ArgumentException>(() => MemoryBandwidth.Measure(1000));
    }
}
