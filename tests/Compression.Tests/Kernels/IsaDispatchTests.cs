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
