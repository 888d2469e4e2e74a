// Q4_0VnniGemmTests: the integer q4_0 prefill sketch gives, for every token, the decode GEMV's bits.
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

public class Q4_0VnniGemmTests
{
    [Fact]
    public void Every_output_equals_the_decode_gemv_of_its_token()
    {
        if (!Q4_0VnniGemm.IsSupported) return; // no AVX-VNNI on this CPU: nothing to compare
        var f = FormatRegistry.Get("q4_0");
        int seed = 11;
        foreach (int cols in new[] { 32, 96, 256 })
        foreach (int rows in new[] { 1, 3, 18, 33 })
        foreach (int n in new[] { 1, 2, 5 })
        {
            var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, ++seed), rows, cols);
            var x = TestData.Gaussian(n * cols, ++seed);
            var y = new float[n * rows];
            Q4_0VnniGemm.Run(packed, rows, cols, x, n, y);
            foreach (var level in KernelIsa.Supported().Where(l => l >= IsaLevel.Avx2))
                for (int t = 0; t < n; t++)
                {
                    var g = new float[rows];
                    using (KernelIsa.Override(level)) f.Gemv(packed, rows, cols, x.AsSpan(t * cols, cols), g);
                    for (int r = 0; r < rows; r++)
                        Assert.True(BitConverter.SingleToInt32Bits(g[r]) == BitConverter.SingleToInt32Bits(y[t * rows + r]),
                            $"{level} {rows}x{cols} n={n}: token {t} row {r}: GEMM {y[t * rows + r]:R}, GEMV {g[r]:R}");
                }
        }
    }
}
