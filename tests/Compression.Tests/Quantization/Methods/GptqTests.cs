// GptqTests: GPTQ against a direct double-precision implementation of its update equations, its reduction to RTN with an
// identity Hessian, and that it lowers the layer's output error.
using Compression.Quantization;
using Compression.Quantization.Methods;
using Compression.Quantization.Methods.Codecs;

namespace Compression.Tests.Quantization.Methods;

public class GptqTests
{
    /// <summary>H = XᵀX/n of correlated inputs (x = z·A with random mixing), so error feedback really moves weights.</summary>
    internal static double[] Hessian(int cols, int n, int seed)
    {
        var z = TestData.Gaussian(n * cols, seed);
        var a = TestData.Gaussian(cols * cols, seed + 1, 0.3f);
        for (int i = 0; i < cols; i++) a[i * cols + i] += 1f;
        var x = new double[n * cols];
        for (int t = 0; t < n; t++)
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int k = 0; k < cols; k++) s += z[t * cols + k] * a[k * cols + j];
                x[t * cols + j] = s * (1 + 3 * (j % 7 == 0 ? 1 : 0)); // a few salient channels
            }
        var h = new double[cols * cols];
        for (int i = 0; i < cols; i++)
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int t = 0; t < n; t++) s += x[t * cols + i] * x[t * cols + j];
                h[i * cols + j] = s / n;
            }
        return h;
    }

    /// <summary>
    /// GPTQ as its paper states it (the OBQ update without the Cholesky reformulation): after column q is quantized,
    /// w_j −= (w_q − Q(w_q))·[H⁻¹]_qj/[H⁻¹]_qq for the remaining j, and H⁻¹ drops q by one Gaussian elimination step
    /// (H⁻¹ −= H⁻¹_{:q}H⁻¹_{q:}/[H⁻¹]_qq). Plain loops in double; the inverse by Gauss–Jordan.
    /// </summary>
    private static byte[] Reference(float[] weight, int rows, int cols, double[] h, TensorFormat format, bool actOrder)
    {
        var codec = format.Codec!;
        int g = codec.BlockSize, blocks = cols / g;
        double mean = 0;
        for (int i = 0; i < cols; i++) mean += h[i * cols + i];
        mean /= cols;
        var hd = (double[])h.Clone();
        for (int i = 0; i < cols; i++) hd[i * cols + i] += 0.01 * mean;
        var inv0 = Invert(hd, cols);
        int[] order = Enumerable.Range(0, cols).ToArray();
        if (actOrder) order = order.OrderByDescending(c => h[c * cols + c]).ThenBy(c => c).ToArray();
        var codes = new int[rows * cols];
        var param = new BlockParams[rows * blocks];
        for (int r = 0; r < rows; r++)
        {
            var w = new double[cols];
            for (int j = 0; j < cols; j++) w[j] = weight[r * cols + j];
            var fit = new float[g];
            if (actOrder)
                for (int b = 0; b < blocks; b++)
                {
                    for (int j = 0; j < g; j++) fit[j] = (float)w[b * g + j];
                    param[r * blocks + b] = codec.Fit(fit);
                }
            var inv = (double[])inv0.Clone();
            var done = new bool[cols];
            foreach (int q in order)
            {
                if (!actOrder && q % g == 0)
                {
                    for (int j = 0; j < g; j++) fit[j] = (float)w[q + j];
                    param[r * blocks + q / g] = codec.Fit(fit);
                }
                var p = param[r * blocks + q / g];
                int code = codec.Code((float)w[q], p);
                codes[r * cols + q] = code;
                double e = (w[q] - codec.Value(code, p)) / inv[q * cols + q];
                done[q] = true;
                for (int j = 0; j < cols; j++) if (!done[j]) w[j] -= e * inv[q * cols + j];
                double piv = inv[q * cols + q];
                var colQ = new double[cols];
                var rowQ = new double[cols];
                for (int i = 0; i < cols; i++) { colQ[i] = inv[i * cols + q]; rowQ[i] = inv[q * cols + i]; }
                for (int i = 0; i < cols; i++)
                    for (int j = 0; j < cols; j++) inv[i * cols + j] -= colQ[i] * rowQ[j] / piv;
            }
        }
        return Gptq.Pack(codes, param, rows, cols, format, codec);
    }

    private static double[] Invert(double[] m, int n)
    {
        var a = (double[])m.Clone();
        var inv = new double[n * n];
        for (int i = 0; i < n; i++) inv[i * n + i] = 1;
        for (int c = 0; c < n; c++)
        {
            double piv = a[c * n + c];
            for (int j = 0; j < n; j++) { a[c * n + j] /= piv; inv[c * n + j] /= piv; }
            for (int r = 0; r < n; r++)
            {
                if (r == c) continue;
                double f = a[r * n + c];
                if (f == 0) continue;
                for (int j = 0; j < n; j++) { a[r * n + j] -= f * a[c * n + j]; inv[r * n + j] -= f * inv[c * n + j]; }
            }
        }
        return inv;
    }

    [Theory]
    [InlineData("int4_g32", false)]
    [InlineData("int4_g32", true)]
    [InlineData("q4_0", false)]
    [InlineData("q8_0", false)]
    [InlineData("q1_0", false)]
    [InlineData("gptq4_g32", false)]
    [InlineData("gptq4_g32_asym", true)]
    [InlineData("gptq8_g32_asym", false)]
    public void Codes_match_a_direct_double_precision_implementation(string name, bool actOrder)
    {
        var format = BlockCodecTests.Format(name);
        int cols = format.BlockSize * (format.BlockSize >= 128 ? 2 : 6), rows = 6;
        var h = Hessian(cols, 2 * cols, 3);
        var w = TestData.Gaussian(rows * cols, 5, 0.05f);
        var expected = Reference(w, rows, cols, h, format, actOrder);
        // A lazy block smaller than the matrix, so the deferred updates are exercised.
        var actual = Gptq.Quantize(w, rows, cols, h, format, new GptqOptions(ActOrder: actOrder, LazyBlock: format.BlockSize * (format.BlockSize >= 128 ? 1 : 2)));
        Assert.Equal(expected, actual);
        Assert.NotEqual(TestData.Quantize(format, w, rows, cols), actual); // the error feedback changed codes
    }

    [Theory]
    [MemberData(nameof(BlockCodecTests.CodecFormats), MemberType = typeof(BlockCodecTests))]
    public void With_an_identity_hessian_gptq_is_round_to_nearest(string name)
    {
        var format = BlockCodecTests.Format(name);
        int cols = format.BlockSize * 3, rows = 5;
        var h = new double[cols * cols];
        for (int i = 0; i < cols; i++) h[i * cols + i] = 1;
        var w = TestData.Gaussian(rows * cols, 9, 0.02f);
        Assert.Equal(TestData.Quantize(format, w, rows, cols), Gptq.Quantize(w, rows, cols, h, format, new GptqOptions()));
    }

    [Theory]
    [InlineData("int4")]
    [InlineData("q4_0")]
    [InlineData("q1_0")]
    [InlineData("gptq4_g128")]
    [InlineData("gptq4_g32_asym")]
    public void Gptq_lowers_the_output_error_against_rtn(string name)
    {
        var format = BlockCodecTests.Format(name);
        int cols = 256, rows = 16;
        var h = Hessian(cols, 512, 21);
        var w = TestData.Gaussian(rows * cols, 22, 0.05f);
        double rtn = OutputError(w, TestData.Dequantize(format, TestData.Quantize(format, w, rows, cols), rows, cols), h, rows, cols);
        double gptq = OutputError(w, TestData.Dequantize(format, Gptq.Quantize(w, rows, cols, h, format, new GptqOptions()), rows, cols), h, rows, cols);
        // Sign quantization keeps every code's magnitude: error feedback can only choose signs, so it gains less.
        double bound = format.NominalBits == 1 ? 0.9 : 0.8;
        Assert.True(gptq < bound * rtn, $"{name}: GPTQ output error {gptq:G4} vs RTN {rtn:G4}");
    }

    /// <summary>Σ_rows ΔwᵀHΔw: the mean squared output error of the layer over the inputs H came from.</summary>
    internal static double OutputError(float[] w, float[] q, double[] h, int rows, int cols)
    {
        double total = 0;
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < cols; i++)
            {
                double di = w[r * cols + i] - q[r * cols + i];
                double s = 0;
                for (int j = 0; j < cols; j++) s += h[i * cols + j] * (w[r * cols + j] - q[r * cols + j]);
                total += di * s;
            }
        return total;
    }
}
