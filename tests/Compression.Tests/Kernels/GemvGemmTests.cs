// GemvGemmTests: every format's GEMV (on every ISA level this machine has) and GEMM against a double-precision product of its dequantized weights.
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

public class GemvGemmTests
{
    public static TheoryData<string> Formats => TestData.FormatNames();
    private static readonly int[] RowCounts = [1, 2, 3, 5, 16, 17, 37];

    /// <summary>
    /// Integer kernels multiply by x̂, x quantized per block of 32 (256 for the ternary formats' Q8_K, whose d is not
    /// rounded to fp16) with d = amax/127 rounded to fp16:
    /// |x − x̂| ≤ d/2 (rounding) + 127·d·2^-11 (fp16 scale) ≤ 0.57·d. So |y − W·x| ≤ Σ|w|·0.57·d_block,
    /// plus float accumulation error (1e-5 of Σ|w·x|). Float kernels only have the accumulation term.
    /// </summary>
    private static double Tolerance(TensorFormat f, float[] w, float[] x, int r, int cols)
    {
        double absSum = 0, quantErr = 0;
        for (int k = 0; k < cols; k++)
        {
            double wk = Math.Abs(w[r * cols + k]);
            absSum += wk * Math.Abs(x[k]);
            int ab = f.ActivationBlock;
            if (!f.IsFloat && cols % ab == 0)
            {
                int b0 = k / ab * ab;
                float amax = 0;
                for (int j = b0; j < b0 + ab; j++) amax = Math.Max(amax, Math.Abs(x[j]));
                quantErr += wk * 0.57 * amax / 127;
            }
        }
        return quantErr * 1.0001 + 1e-5 * absSum + 1e-6;
    }

    [Theory, MemberData(nameof(Formats))]
    public void GemvMatchesTheDequantizedProduct(string name)
    {
        var f = FormatRegistry.Get(name);
        int seed = 100;
        foreach (int cols in TestData.RowLengths(f))
        foreach (int rows in RowCounts)
        {
            var w = TestData.Gaussian(rows * cols, ++seed);
            var x = TestData.Gaussian(cols, ++seed);
            var packed = TestData.Quantize(f, w, rows, cols);
            var wd = TestData.Dequantize(f, packed, rows, cols);
            foreach (var level in KernelIsa.Supported())
            {
                var y = new float[rows];
                using (KernelIsa.Override(level)) f.Gemv(packed, rows, cols, x, y);
                for (int r = 0; r < rows; r++)
                {
                    double exact = 0;
                    for (int k = 0; k < cols; k++) exact += (double)wd[r * cols + k] * x[k];
                    double tol = Tolerance(f, wd, x, r, cols);
                    Assert.True(Math.Abs(y[r] - exact) <= tol, $"{name} {level} {rows}x{cols} row {r}: {y[r]} vs {exact} (tol {tol:G3})");
                }
            }
        }
    }

    [Theory, MemberData(nameof(Formats))]
    public void GemmMatchesTheDequantizedProduct(string name)
    {
        var f = FormatRegistry.Get(name);
        int seed = 500;
        foreach (int cols in TestData.RowLengths(f).Take(4))
        foreach (int rows in new[] { 1, 3, 17, 37 })
        foreach (int n in new[] { 2, 4, 5, 9 })
        {
            var w = TestData.Gaussian(rows * cols, ++seed);
            var x = TestData.Gaussian(n * cols, ++seed);
            var packed = TestData.Quantize(f, w, rows, cols);
            var wd = TestData.Dequantize(f, packed, rows, cols);
            var y = new float[n * rows];
            f.Gemm(packed, rows, cols, x, n, y);
            var yq = new float[n * rows];
            using (PrefillActivations.Use(PrefillActivations.Mode.Q8)) f.Gemm(packed, rows, cols, x, n, yq);
            if (!f.GemmQuantizesActivations) Assert.Equal(y, yq); // the mode only concerns formats with an integer prefill
            for (int i = 0; i < n; i++)
            for (int r = 0; r < rows; r++)
            {
                double exact = 0, abs = 0;
                for (int k = 0; k < cols; k++) { exact += (double)wd[r * cols + k] * x[i * cols + k]; abs += Math.Abs((double)wd[r * cols + k] * x[i * cols + k]); }
                Assert.True(Math.Abs(y[i * rows + r] - exact) <= 1e-5 * abs + 1e-6, $"{name} n={n} {rows}x{cols} [{i},{r}]: {y[i * rows + r]} vs {exact}");
                double tol = Tolerance(f, wd, x.AsSpan(i * cols, cols).ToArray(), r, cols);
                Assert.True(Math.Abs(yq[i * rows + r] - exact) <= tol, $"{name} Q8 prefill n={n} {rows}x{cols} [{i},{r}]: {yq[i * rows + r]} vs {exact} (tol {tol:G3})");
            }
        }
    }

    [Fact]
    public void LargeGemvSplitAcrossThreadsMatchesSingleRowDots()
    {
        // 1024 rows × 2048 q4_0 = 1.2 MB: above the parallel threshold, so the row pool is used.
        var f = FormatRegistry.Get("q4_0");
        const int rows = 1024, cols = 2048;
        var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, 3), rows, cols);
        var x = TestData.Gaussian(cols, 4);
        var y = new float[rows];
        f.Gemv(packed, rows, cols, x, y);
        long rb = f.RowBytes(cols);
        for (int r = 0; r < rows; r += 61)
        {
            var one = new float[1];
            f.Gemv(packed.AsSpan((int)(r * rb), (int)rb), 1, cols, x, one);
            Assert.Equal(one[0], y[r]);
        }
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var f = FormatRegistry.Get("q8_0");
        var packed = new byte[f.RowBytes(64) * 2];
        Assert.Throws<ArgumentException>(() => f.Gemv(packed, 3, 64, new float[64], new float[3]));
        Assert.Throws<ArgumentException>(() => f.Gemv(packed, 2, 64, new float[32], new float[2]));
        Assert.Throws<ArgumentException>(() => f.Gemm(packed, 2, 64, new float[64], 2, new float[4]));
    }
}
