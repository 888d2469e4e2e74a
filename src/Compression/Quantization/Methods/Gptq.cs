// Gptq: the GPTQ algorithm (Frantar et al. 2022) over any format with a block codec — Hessian, dampening, optional
// activation order, lazy batch updates driven by the Cholesky factor of the inverse Hessian.
using Compression.Model;
using static TorchSharp.torch;
using Compression.Quantization.Methods.Codecs;

namespace Compression.Quantization.Methods;

/// <summary>GPTQ settings.</summary>
/// <param name="Damp">Fraction of the mean diagonal of H added to its diagonal (GPTQ's percdamp, 0.01).</param>
/// <param name="ActOrder">Quantize columns in order of decreasing H diagonal (activation order); block parameters are
/// then fitted once on the original weights (AutoGPTQ's static groups), since a block's columns are no longer visited together.</param>
/// <param name="LazyBlock">Columns per lazy batch (128); rounded up to a multiple of the format's block.</param>
public sealed record GptqOptions(double Damp = 0.01, bool ActOrder = false, int LazyBlock = 128);

/// <summary>
/// Quantizes a (rows × cols) weight one column at a time, each column's rounding error spread over the columns not yet
/// quantized through the inverse Hessian: with U the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU),
/// <c>e = (w_c − q_c)/U_cc; w_j −= e·U_cj</c> for j &gt; c. Updates inside a lazy block are applied at once, those to later
/// columns once per block (one rank-B update). Block parameters (scale, zero) are fitted when the first column of a
/// format block is reached, on its updated weights. Rows are independent and run in parallel.
/// </summary>
public static class Gptq
{
    /// <summary>The packed bytes (rows × RowBytes) of <paramref name="weight"/> quantized with second moments <paramref name="h"/> (cols × cols).</summary>
    public static byte[] Quantize(float[] weight, int rows, int cols, double[] h, TensorFormat format, GptqOptions options)
    {
        var codec = format.Codec ?? throw new NotSupportedException($"gptq: format '{format.Name}' has no block codec");
        int g = codec.BlockSize;
        if (cols % g != 0) throw new ArgumentException($"gptq: {cols} columns is not a multiple of {format.Name}'s block of {g}");
        if (h.Length != (long)cols * cols) throw new ArgumentException($"gptq: H has {h.Length} entries, expected {cols}×{cols}");

        var w = new double[(long)rows * cols];
        for (long i = 0; i < w.Length; i++) w[i] = weight[i];
        // A channel that never fired carries no information: GPTQ zeroes its weights and gives it a unit diagonal.
        // H is copied only then (an 8B down_proj's H is 14336² doubles, 1.6 GB: every copy counts).
        bool copied = false;
        for (int c = 0; c < cols; c++)
        {
            if (h[(long)c * cols + c] != 0) continue;
            if (!copied) (h, copied) = ((double[])h.Clone(), true); // the caller's H stays as it was
            h[(long)c * cols + c] = 1;
            for (int r = 0; r < rows; r++) w[(long)r * cols + c] = 0;
        }
        int[] perm = Enumerable.Range(0, cols).ToArray();
        if (options.ActOrder)
            perm = perm.OrderByDescending(c => h[(long)c * cols + c]).ThenBy(c => c).ToArray();
        int blocks = cols / g;
        // With activation order, each format block's parameters come from the original weights, fitted up front.
        var fixedParams = options.ActOrder ? FitAll(w, rows, cols, codec) : null;

        using var scope = NewDisposeScope();
        var u = InverseCholeskyTensor(options.ActOrder ? Permute(h, perm, cols) : h, cols, options.Damp); // (cols, cols) float64, upper
        // Weights in visiting order, a float64 tensor: the lazy batches' rank-B updates of the columns not yet visited
        // are one matrix product each (libtorch's GEMM), the per-column work inside a batch stays in plain loops.
        var pw = tensor(w, [rows, cols]);
        if (options.ActOrder) pw = pw.index_select(1, tensor(perm.Select(p => (long)p).ToArray()));

        int lazy = Math.Max(g, (options.LazyBlock + g - 1) / g * g);
        var codes = new int[(long)rows * cols];
        var param = fixedParams ?? new BlockParams[(long)rows * blocks];
        for (int i1 = 0; i1 < cols; i1 += lazy)
        {
            int i2 = Math.Min(cols, i1 + lazy), width = i2 - i1;
            var block = pw.narrow(1, i1, width).contiguous().data<double>().ToArray(); // (rows, width)
            var err = new double[(long)rows * width];
            var ub = u.narrow(0, i1, width).narrow(1, i1, width).contiguous().data<double>().ToArray(); // U[i1:i2, i1:i2]
            Parallel.For(0, rows, r =>
            {
                var row = block.AsSpan((int)((long)r * width), width);
                var e = err.AsSpan((int)((long)r * width), width);
                Span<float> fit = stackalloc float[g];
                for (int c = i1; c < i2; c++)
                {
                    int k = c - i1, original = perm[c];
                    ref var p = ref param[(long)r * blocks + original / g];
                    if (fixedParams is null && c % g == 0)
                    {
                        for (int j = 0; j < g; j++) fit[j] = (float)row[k + j];
                        p = codec.Fit(fit);
                    }
                    int code = codec.Code((float)row[k], p);
                    codes[(long)r * cols + original] = code;
                    double ek = (row[k] - codec.Value(code, p)) / ub[k * width + k];
                    e[k] = ek;
                    for (int j = k + 1; j < width; j++) row[j] -= ek * ub[k * width + j];
                }
            });
            // The lazy batch: every later column gets this batch's errors at once, W[:, i2:] −= E·U[i1:i2, i2:].
            if (i2 < cols)
            {
                using var inner = NewDisposeScope();
                pw.narrow(1, i2, cols - i2).sub_(tensor(err, [rows, width]).matmul(u.narrow(0, i1, width).narrow(1, i2, cols - i2)));
            }
        }
        return Pack(codes, param, rows, cols, format, codec);
    }

    /// <summary>Writes codes and parameters in the format's layout.</summary>
    internal static byte[] Pack(int[] codes, BlockParams[] param, int rows, int cols, TensorFormat format, BlockCodec codec)
    {
        int g = codec.BlockSize, blocks = cols / g, bpb = format.BytesPerBlock;
        long rowBytes = format.RowBytes(cols);
        var packed = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < blocks; b++)
                codec.Write(param[(long)r * blocks + b], codes.AsSpan((int)((long)r * cols + b * g), g),
                    packed.AsSpan((int)(r * rowBytes + (long)b * bpb), bpb));
        return packed;
    }

    private static BlockParams[] FitAll(double[] w, int rows, int cols, BlockCodec codec)
    {
        int g = codec.BlockSize, blocks = cols / g;
        var param = new BlockParams[(long)rows * blocks];
        var x = new float[g];
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < blocks; b++)
            {
                for (int j = 0; j < g; j++) x[j] = (float)w[(long)r * cols + b * g + j];
                param[(long)r * blocks + b] = codec.Fit(x);
            }
        return param;
    }

    private static double[] Permute(double[] h, int[] perm, int n)
    {
        var p = new double[h.Length];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) p[(long)i * n + j] = h[(long)perm[i] * n + perm[j]];
        return p;
    }

    /// <summary>
    /// U with (H + λI)⁻¹ = UᵀU, U upper triangular, λ = damp·mean(diag H). A matrix that is still not positive definite
    /// (too few calibration tokens for its size) gets ten times the dampening, up to five times, before giving up.
    /// </summary>
    internal static double[] InverseCholesky(double[] h, int n, double damp)
    {
        using var scope = NewDisposeScope();
        return InverseCholeskyTensor(h, n, damp).data<double>().ToArray();
    }

    /// <summary><see cref="InverseCholesky"/> as a contiguous float64 tensor (in the caller's dispose scope).</summary>
    internal static Tensor InverseCholeskyTensor(double[] h, int n, double damp)
    {
        double mean = 0;
        for (int i = 0; i < n; i++) mean += h[(long)i * n + i];
        mean /= n;
        // Each (n, n) intermediate is freed as soon as the next exists: at most two are alive (plus h), which is what
        // bounds the memory of an 8B block (n = 14336 for down_proj: 1.6 GB each).
        for (int attempt = 0; attempt < 6; attempt++, damp *= 10)
        {
            using var scope = NewDisposeScope();
            Tensor l, inv, li, info;
            using (var hd = tensor(h, [n, n]))
            {
                using (var diagonal = hd.diagonal()) diagonal.PlusScalarInPlace(damp * mean);
                (l, info) = linalg.cholesky_ex(hd);
            }
            if (info.item<int>() != 0) { l.Dispose(); continue; }
            using (l) inv = cholesky_inverse(l);            // (H + λI)⁻¹
            using (inv) (li, info) = linalg.cholesky_ex(inv);
            if (info.item<int>() != 0) { li.Dispose(); continue; }
            using (li) using (var upper = li.t()) return upper.contiguous().MoveToOuterDisposeScope(); // the upper factor is the transposed lower one
        }
        throw new InvalidDataException($"gptq: the input second-moment matrix ({n}×{n}) is not positive definite even with heavy dampening; use more calibration tokens");
    }
}
