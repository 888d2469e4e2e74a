// Q4_0DecodeLayoutTests: q4_0's decode layout holds every code and scale where its definition says, and its kernels give the scalar reference's bits.
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

public unsafe class Q4_0DecodeLayoutTests
{
    private static readonly TensorFormat Q4 = FormatRegistry.Get("q4_0");

    /// <summary>
    /// Code j (0..15) of block b of row 8g + r — the byte holding weights j and j + 16 — is layout byte
    /// 8·rb·g + 128b + 32m + 4r + k for j = 4m + k, and the block's scale is fp16 number 8b + r after the group's 128·nb
    /// bytes of codes. Only full sixteen-row groups are laid out.
    /// </summary>
    [Fact]
    public void TheDecodeLayoutPutsEveryCodeAndScaleWhereItsDefinitionSays()
    {
        foreach (int cols in new[] { 32, 96, 4096 })
        foreach (int rows in new[] { 16, 33, 48 })
        {
            int rb = (int)Q4.RowBytes(cols), nb = cols / 32;
            var packed = TestData.Quantize(Q4, TestData.Gaussian(rows * cols, rows + cols), rows, cols);
            long bytes = Q4.DecodeLayoutBytes(rows, cols);
            Assert.Equal(rows / 16 * 16L * rb, bytes);
            var layout = new byte[bytes + 1];
            layout[^1] = 0xA5;
            fixed (byte* p = packed) fixed (byte* l = layout) Q4.WriteDecodeLayout(p, rows, cols, l);
            Assert.Equal(0xA5, layout[^1]); // nothing written past the layout
            for (int row = 0; row < rows / 16 * 16; row++)
            {
                int g = row / 8, r = row % 8;
                long group = 8L * rb * g;
                for (int b = 0; b < nb; b++)
                {
                    int block = row * rb + b * 18;
                    long scale = group + 128L * nb + 16 * b + 2 * r;
                    Assert.Equal(packed[block], layout[scale]);
                    Assert.Equal(packed[block + 1], layout[scale + 1]);
                    for (int j = 0; j < 16; j++)
                        Assert.Equal(packed[block + 2 + j], layout[group + 128L * b + 32 * (j / 4) + 4 * r + j % 4]);
                }
            }
        }
    }

    /// <summary>
    /// The layout's kernels compute every row in the scalar reference's order, so every level — with and without
    /// AVX-VNNI, with the scales read exactly or as 2^-112 times their value — gives the reference's bits: for row
    /// counts around the sixteen-row groups (the rows past them go through the reference itself), the extreme codes
    /// (every code 0 or 15 against ±127), scales that are NaN, Inf, subnormal or −0 (a group holding NaN or Inf is done
    /// again with the exact conversion), and activations past fp16's range (d_x = Inf: NaN and Inf rows either way).
    /// </summary>
    [Fact]
    public void EveryLevelGivesTheScalarBitsFromTheLayout()
    {
        int seed = 4100;
        foreach (int cols in new[] { 32, 96, 4096 })
        foreach (int rows in new[] { 16, 17, 31, 33, 48 })
        {
            int rb = (int)Q4.RowBytes(cols);
            var packed = TestData.Quantize(Q4, TestData.Gaussian(rows * cols, ++seed), rows, cols);
            for (int b = 0; b < cols / 32; b++)
            {
                packed.AsSpan(b * 18 + 2, 16).Fill(0xff);                // row 0: every code 15 (w = +7)
                if (rows > 1) packed.AsSpan(rb + b * 18 + 2, 16).Clear(); // row 1: every code 0 (w = −8)
            }
            if (rows > 20)
            {
                LayoutGemv.SetScale(packed, rb, row: 5, block: cols / 32 - 1, 0x7E00); // NaN, in the last block
                LayoutGemv.SetScale(packed, rb, row: 17, block: 0, 0x7C00);  // +Inf
                LayoutGemv.SetScale(packed, rb, row: 18, block: 0, 0x0001);  // the smallest subnormal
                LayoutGemv.SetScale(packed, rb, row: 19, block: 0, 0x8000);  // −0
                LayoutGemv.SetScale(packed, rb, row: 20, block: 0, 0xFC00);  // −Inf
            }
            var extreme = Enumerable.Range(0, cols).Select(i => i % 2 == 0 ? 127f : -127f).ToArray();
            var large = TestData.Gaussian(cols, ++seed).Select(v => v * 1e7f).ToArray(); // amax/127 > 65504: d_x = Inf
            foreach (var x in new[] { TestData.Gaussian(cols, ++seed), extreme, Enumerable.Repeat(127f, cols).ToArray(), large })
            {
                var reference = LayoutGemv.Run(Q4, packed, rows, cols, x, IsaLevel.Scalar, layout: false);
                LayoutGemv.AssertEveryLevelGives(reference, "scaled", [true, false], (level, scaled) =>
                    LayoutGemv.Run(Q4, packed, rows, cols, x, level, layout: true, misalign: 1 + rows % 5, scaledReads: scaled), $"{rows}x{cols}");
                if (rows > 20)
                {
                    Assert.True(float.IsNaN(reference[5]));
                    Assert.True(float.IsInfinity(reference[17]) || float.IsNaN(reference[17]));
                }
            }
        }
    }

    /// <summary>A session writes every packed matrix's layout up front when asked (commands that decode do, under
    /// COMPRESS_REPACK=1, so the first token does not pay for them): each q4_0 matrix's whole sixteen-row groups, once.</summary>
    [Fact]
    public void ASessionWritesEveryDecodeLayoutUpFront()
    {
        using var session = Compression.Inference.ModelSession.Open(TestPaths.TinyLlamaFile("model-q4_0.gguf"),
            new Compression.Inference.ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        var packed = session.Model.LinearLayers().Select(l => l.Layer).OfType<PackedLinear>().ToList();
        Assert.Contains(packed, l => l.Format.Name == "q4_0");
        Assert.All(packed, l => Assert.Equal(0, l.Weight.DecodeLayoutBytes));
        long expected = packed.Where(l => l.Format.HasDecodeLayout).Sum(l => l.Format.DecodeLayoutBytes((int)l.OutFeatures, (int)l.InFeatures));
        Assert.True(expected > 0);
        var reports = new List<(int Done, int Total, string Name)>();
        Assert.Equal(expected, session.WriteDecodeLayouts(new SyncReports(reports)));
        Assert.Equal(packed.Count(l => l.Format.HasDecodeLayout), reports.Count);
        Assert.Equal(reports.Count, reports[^1].Done);
        Assert.All(packed.Where(l => l.Format.HasDecodeLayout), l =>
            Assert.Equal(l.Format.DecodeLayoutBytes((int)l.OutFeatures, (int)l.InFeatures), l.Weight.DecodeLayoutBytes));
        Assert.Equal(expected, session.WriteDecodeLayouts()); // written once: the same layouts again
    }

    private sealed class SyncReports(List<(int, int, string)> into) : IProgress<(int Done, int Total, string Name)>
    {
        public void Report((int Done, int Total, string Name) value) => into.Add(value);
    }

    /// <summary>A matrix large enough to be split over the cores (chunks of whole sixteen-row groups) gives the scalar
    /// reference's bits from the layout, the 7 rows past its last group included.</summary>
    [Fact]
    public void AMatrixSplitOverTheCoresGivesTheScalarBits()
    {
        const int rows = 16 * 17 + 7, cols = 4096; // 0.64 MB: above the driver's parallel threshold
        var packed = TestData.Quantize(Q4, TestData.Gaussian(rows * cols, 93), rows, cols);
        var x = TestData.Gaussian(cols, 94);
        var reference = LayoutGemv.Run(Q4, packed, rows, cols, x, IsaLevel.Scalar, layout: false);
        var laid = LayoutGemv.Run(Q4, packed, rows, cols, x, KernelIsa.Supported().Max(), layout: true);
        for (int r = 0; r < rows; r++) Assert.Equal(BitConverter.SingleToInt32Bits(reference[r]), BitConverter.SingleToInt32Bits(laid[r]));
    }

    /// <summary>A layer reads the layout only for decode, once it is asked to (built on the first decode GEMV), and then
    /// gives the scalar reference's bits; the file's kernels agree with them to rounding.</summary>
    [Fact]
    public void ALayerBuildsItsDecodeLayoutOnlyForDecodeAndGivesTheReferenceBits()
    {
        var (packed, x, file, laid) = LayoutGemv.LayerDecodeBothWays(Q4, seed: 91);
        var reference = LayoutGemv.Run(Q4, packed, file.Length, x.Length, x, IsaLevel.Scalar, layout: false);
        for (int r = 0; r < file.Length; r++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(reference[r]), BitConverter.SingleToInt32Bits(laid[r]));
            Assert.Equal(reference[r], file[r], 1e-4 * (1 + Math.Abs(reference[r])));
        }
    }
}
