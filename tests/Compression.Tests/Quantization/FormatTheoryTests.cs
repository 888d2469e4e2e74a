// FormatTheoryTests: one theory over every registered format — round-trip error, fast == reference, sizes.
using System.Runtime.InteropServices;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Tests.Quantization;

public class FormatTheoryTests
{
    public static TheoryData<string> Formats => TestData.FormatNames();

    /// <summary>
    /// Relative RMS error bounds on N(0,1) data, from each format's step size:
    /// f32 exact; 16-bit: bf16 keeps 8 significant bits, so every value is within 2^-9 ≈ 2e-3 relative;
    /// 8-bit: step amax/127 with amax ≈ 2–3.5σ gives ≈ 0.5–0.8% RMS → 1e-2;
    /// 6-bit (q6_k): step ≈ amax/32 over 16 values → ≈ 2–3% → 5e-2;
    /// 4-bit: step ≈ amax/8 (q4_0) or range/15 (int4) → ≈ 8–10% → 0.15;
    /// 3-bit: step range/7 with a group range ≈ 4.6–5.2σ (64–128 values) → ≈ step/√12 ≈ 0.19–0.22 → 0.25;
    /// 2-bit: step range/3 ≈ 1.5–1.75σ → ≈ 0.44–0.5 → 0.55;
    /// 1-bit: sign·mean|x| leaves exactly √(1 − 2/π) ≈ 0.603 of a Gaussian's RMS → 0.65;
    /// ternary (tq1_0, tq2_0): codes round(x/amax) with amax ≈ 2.7–3.3σ over 256 values, so |x| below ≈ 1.5σ
    /// becomes 0 and the rest ±amax: ≈ 0.80 of the RMS is left (absmax suits trained ternary weights, not
    /// Gaussians) → 0.85, and no better than 0.75.
    /// </summary>
    private static double Bound(TensorFormat f) => f is TernaryFormat ? 0.85 : f.NominalBits switch
    {
        32 => 0, 16 => 2e-3, 8 => 1e-2, 6 => 5e-2, 4 => 0.15, 3 => 0.25, 2 => 0.55, 1 => 0.65,
        var b => throw new InvalidOperationException($"no error bound chosen for {b}-bit format {f.Name}"),
    };

    [Theory, MemberData(nameof(Formats))]
    public void RoundTripErrorIsWithinTheBitWidthBound(string name)
    {
        var f = FormatRegistry.Get(name);
        const int rows = 16, cols = 512;
        var w = TestData.Gaussian(rows * cols, seed: 7);
        var back = TestData.Dequantize(f, TestData.Quantize(f, w, rows, cols), rows, cols);
        double err = 0, norm = 0;
        for (int i = 0; i < w.Length; i++) { err += (back[i] - w[i]) * (double)(back[i] - w[i]); norm += w[i] * (double)w[i]; }
        double rel = Math.Sqrt(err / norm);
        Assert.True(rel <= Bound(f), $"{name}: relative RMS error {rel:G4} > {Bound(f)}");
        if (f.NominalBits == 1) Assert.InRange(rel, 0.55, 0.65); // the known √(1 − 2/π)
        if (f is TernaryFormat) Assert.InRange(rel, 0.75, 0.85);
    }

    [Theory, MemberData(nameof(Formats))]
    public void FastRowCodecsEqualTheScalarReference(string name)
    {
        var f = FormatRegistry.Get(name);
        int seed = 0;
        foreach (int cols in TestData.RowLengths(f))
        {
            var x = TestData.Gaussian(cols, ++seed, sigma: 0.02f);
            // Exact ties and zeros: halves of a grid, a zero block, a negative maximum.
            for (int i = 0; i < cols; i += 3) x[i] = MathF.Round(x[i] * 1000) / 2 - 0.5f * (i % 2);
            if (cols >= 64) x.AsSpan(0, 32).Clear();
            x[^1] = -MathF.Abs(x[^1]) * 50;

            long rb = f.RowBytes(cols);
            var reference = new byte[rb];
            var fast = new byte[rb];
            f.QuantizeRowReference(x, reference);
            f.QuantizeRow(x, fast);
            Assert.True(reference.AsSpan().SequenceEqual(fast), $"{name}: QuantizeRow differs from the reference at cols={cols}");

            var dRef = new float[cols];
            var dFast = new float[cols];
            f.DequantizeRowReference(reference, dRef);
            f.DequantizeRow(reference, dFast);
            for (int i = 0; i < cols; i++)
                Assert.True(BitConverter.SingleToInt32Bits(dRef[i]) == BitConverter.SingleToInt32Bits(dFast[i]),
                    $"{name}: DequantizeRow differs at cols={cols}, i={i}: {dFast[i]} vs {dRef[i]}");
        }
    }

    [Theory, MemberData(nameof(Formats))]
    public void SizesComeFromTheBlockGeometry(string name)
    {
        var f = FormatRegistry.Get(name);
        Assert.True(f.Supports(4096) && f.Supports(14336));
        if (f is Int8Format) Assert.Equal(4096 + 4, f.RowBytes(4096));
        else Assert.Equal(4096 / f.BlockSize * f.BytesPerBlock, f.RowBytes(4096));
        Assert.Same(f, FormatRegistry.Get(name.ToUpperInvariant()));
        if (f.GgmlTypeId is int id) Assert.Same(f, FormatRegistry.ByGgmlType(id));
    }

    [Fact]
    public void BlockStructsHaveTheGgmlSizes()
    {
        Assert.Equal(34, Marshal.SizeOf<BlockQ8_0>());
        Assert.Equal(18, Marshal.SizeOf<BlockQ4_0>());
        Assert.Equal(18, Marshal.SizeOf<BlockQ1_0>());
        Assert.Equal(210, Marshal.SizeOf<BlockQ6_K>());
        Assert.Equal(66, Marshal.SizeOf<BlockTQ2_0>());
        Assert.Equal(54, Marshal.SizeOf<BlockTQ1_0>());
        Assert.Equal(Marshal.SizeOf<BlockTQ2_0>(), TQ2_0Format.Instance.BytesPerBlock);
        Assert.Equal(Marshal.SizeOf<BlockTQ1_0>(), TQ1_0Format.Instance.BytesPerBlock);
        Assert.Equal(68, Marshal.SizeOf<BlockInt4G128>());
        Assert.Equal(36, Marshal.SizeOf<BlockInt4G64>());
        Assert.Equal(20, Marshal.SizeOf<BlockInt4G32>());
        Assert.Equal(Marshal.SizeOf<BlockQ8_0>(), Q8_0Format.Instance.BytesPerBlock);
        Assert.Equal(Marshal.SizeOf<BlockQ4_0>(), Q4_0Format.Instance.BytesPerBlock);
        Assert.Equal(Marshal.SizeOf<BlockQ1_0>(), Q1_0Format.Instance.BytesPerBlock);
        Assert.Equal(Marshal.SizeOf<BlockQ6_K>(), Q6_KFormat.Instance.BytesPerBlock);
        Assert.Equal(Marshal.SizeOf<BlockInt4G128>(), Int4Format.G128.BytesPerBlock);
        Assert.Equal(Marshal.SizeOf<BlockInt4G64>(), Int4Format.G64.BytesPerBlock);
        Assert.Equal(Marshal.SizeOf<BlockInt4G32>(), Int4Format.G32.BytesPerBlock);
    }

    [Fact]
    public void BitsPerWeightMatchTheTable()
    {
        Assert.Equal(8.5, Q8_0Format.Instance.BitsPerWeight(4096));
        Assert.Equal(4.5, Q4_0Format.Instance.BitsPerWeight(4096));
        Assert.Equal(1.125, Q1_0Format.Instance.BitsPerWeight(4096));
        Assert.Equal(6.5625, Q6_KFormat.Instance.BitsPerWeight(4096));
        Assert.Equal(2.0625, TQ2_0Format.Instance.BitsPerWeight(4096));
        Assert.Equal(1.6875, TQ1_0Format.Instance.BitsPerWeight(4096));
        Assert.Equal(8 + 32.0 / 4096, Int8Format.Instance.BitsPerWeight(4096));
        Assert.Equal(4.25, Int4Format.G128.BitsPerWeight(4096));
        Assert.Equal(4.5, Int4Format.G64.BitsPerWeight(4096));
        Assert.Equal(5.0, Int4Format.G32.BitsPerWeight(4096));
        Assert.Equal(3.25, IntLowBitFormat.Int3G128.BitsPerWeight(4096));
        Assert.Equal(3.5, IntLowBitFormat.Int3G64.BitsPerWeight(4096));
        Assert.Equal(2.25, IntLowBitFormat.Int2G128.BitsPerWeight(4096));
        Assert.Equal(2.5, IntLowBitFormat.Int2G64.BitsPerWeight(4096));
    }
}
