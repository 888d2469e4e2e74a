// LayoutGemv: a format's GEMV at one ISA level, from misaligned packed rows or from its decode layout — shared by the layout tests.
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

internal static unsafe class LayoutGemv
{
    /// <summary>y = W·x at <paramref name="level"/>, reading the packed rows <paramref name="misalign"/> bytes off an
    /// aligned start, or (<paramref name="layout"/>) the decode layout written from them, 64-byte aligned as an allocation
    /// would be; <paramref name="scaledReads"/> forces the scaled fp16 reads on or off (null: as the CPU measures).</summary>
    public static float[] Run(TensorFormat f, byte[] packed, int rows, int cols, float[] x, IsaLevel level, bool layout,
        int misalign = 0, bool? scaledReads = null)
    {
        var shifted = new byte[packed.Length + misalign];
        packed.CopyTo(shifted, misalign);
        var y = new float[rows];
        var laid = new byte[layout ? f.DecodeLayoutBytes(rows, cols) + 64 : 0];
        var before = HalfConvert.ScaledReads;
        HalfConvert.ScaledReads = scaledReads;
        try
        {
            using (KernelIsa.Override(level))
            fixed (byte* l = laid)
            {
                if (!layout) f.Gemv(shifted.AsSpan(misalign), rows, cols, x, y);
                else
                {
                    byte* at = l + (64 - (nint)l % 64) % 64;
                    fixed (byte* p = shifted) f.WriteDecodeLayout(p + misalign, rows, cols, at);
                    f.Gemv(shifted.AsSpan(misalign), at, rows, cols, x, y);
                }
            }
        }
        finally { HalfConvert.ScaledReads = before; }
        return y;
    }

    /// <summary>
    /// A 40 × 512 layer of <paramref name="f"/> (weights and x from <paramref name="seed"/>) run on one token and on three,
    /// first from the file, then with decode layouts on: asserts that prefill reads the file both times and that only the
    /// one-token call builds the layout (the 32 rows of its full sixteen-row groups). Returns the packed weights, the
    /// token, and its outputs from the file and from the layout.
    /// </summary>
    public static (byte[] Packed, float[] X, float[] File, float[] Laid) LayerDecodeBothWays(TensorFormat f, int seed)
    {
        const int rows = 40, cols = 512;
        var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, seed), rows, cols);
        using var layer = PackedLinear.FromPacked(packed, f, rows, cols);
        var x = TestData.Gaussian(3 * cols, seed + 1);
        using var one = TorchSharp.torch.tensor(x.AsSpan(0, cols).ToArray(), new long[] { 1, cols });
        using var three = TorchSharp.torch.tensor(x, new long[] { 3, cols });
        float[] Run(TorchSharp.torch.Tensor input) { using var y = layer.forward(input); return y.data<float>().ToArray(); }
        var file = Run(one);
        var filePrefill = Run(three);
        Xunit.Assert.Equal(0, layer.Weight.DecodeLayoutBytes);
        using (DecodeLayout.Use(true))
        {
            Xunit.Assert.Equal(filePrefill, Run(three)); // prefill reads the file
            Xunit.Assert.Equal(0, layer.Weight.DecodeLayoutBytes);
            var laid = Run(one);
            Xunit.Assert.Equal(32L * f.RowBytes(cols), layer.Weight.DecodeLayoutBytes);
            return (packed, x.AsSpan(0, cols).ToArray(), file, laid);
        }
    }

    /// <summary>Asserts that every level but scalar, with and without the optional extensions (VNNI, VBMI), under each of
    /// <paramref name="variants"/> (named <paramref name="variant"/> in messages), gives <paramref name="reference"/>'s bits
    /// for every row.</summary>
    public static void AssertEveryLevelGives(float[] reference, string variant, bool[] variants, Func<IsaLevel, bool, float[]> run, string shape)
    {
        foreach (var level in KernelIsa.Supported().Where(l => l != IsaLevel.Scalar))
        foreach (bool extensions in new[] { true, false })
        foreach (bool v in variants)
        {
            float[] y;
            using (extensions ? null : KernelIsa.WithoutExtensions())
                y = run(level, v);
            for (int r = 0; r < reference.Length; r++)
                Xunit.Assert.True(BitConverter.SingleToInt32Bits(y[r]) == BitConverter.SingleToInt32Bits(reference[r]),
                    $"{level} extensions={extensions} {variant}={v} {shape} row {r}: {y[r]:R} vs scalar {reference[r]:R}");
        }
    }

    /// <summary>Sets the fp16 scale of one block of a format whose 18-byte blocks start with it (q1_0, q4_0).</summary>
    public static void SetScale(byte[] packed, int rowBytes, int row, int block, ushort bits)
    {
        int at = row * rowBytes + block * 18;
        packed[at] = (byte)bits;
        packed[at + 1] = (byte)(bits >> 8);
    }
}
