// LayoutGemv: a format's GEMV at one ISA level, from misaligned packed rows or from its decode layout — shared by the layout tests.
using Compression.Kernels;
using Compression.Quantization;

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
