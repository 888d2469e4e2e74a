// HandComputedBlockTests: blocks whose bytes were worked out by hand from the llama.cpp reference rules.
using Compression.Quantization.Formats;

namespace Compression.Tests.Quantization;

public class HandComputedBlockTests
{
    private static byte[] Q(Compression.Quantization.TensorFormat f, float[] x)
    {
        var b = new byte[f.RowBytes(x.Length)];
        f.QuantizeRowReference(x, b);
        var fast = new byte[b.Length];
        f.QuantizeRow(x, fast);
        Assert.Equal(b, fast);
        return b;
    }

    [Fact]
    public void Q8_0RoundsHalfAwayFromZero()
    {
        var x = new float[32];
        x[0] = 127; x[1] = -127; x[2] = 63.5f; x[3] = -63.5f; x[4] = 0.5f; x[5] = -0.5f; x[6] = 1.49f; x[7] = 2.5f;
        var b = Q(Q8_0Format.Instance, x);
        // amax 127 → d = 1 (fp16 0x3C00), id = 1; ties go away from zero (63.5 → 64, 2.5 → 3).
        Assert.Equal(new byte[] { 0x00, 0x3C, 0x7F, 0x81, 0x40, 0xC0, 0x01, 0xFF, 0x01, 0x03 }, b[..10]);
        Assert.All(b[10..], v => Assert.Equal(0, v));
    }

    [Fact]
    public void ZeroBlocksGiveZeroScales()
    {
        Assert.All(Q(Q8_0Format.Instance, new float[32]), v => Assert.Equal(0, v));
        var q4 = Q(Q4_0Format.Instance, new float[32]);
        Assert.Equal(new byte[] { 0x00, 0x80 }, q4[..2]); // d = 0/−8 = −0.0, as in C
        Assert.All(q4[2..], v => Assert.Equal(0x88, v)); // id = 0 → every code is (int)8.5 = 8
        var q1 = Q(Q1_0Format.Instance, new float[128]);
        Assert.Equal(new byte[] { 0, 0 }, q1[..2]);
        Assert.All(q1[2..], v => Assert.Equal(0xFF, v)); // 0 ≥ 0: every bit set
    }

    [Fact]
    public void Q4_0TruncatesAndClampsWithANegativeMaximum()
    {
        var x = new float[32];
        x[0] = -8; x[1] = 4; x[2] = 7.9f; x[3] = 8; x[4] = -0.5f;   // |8| does not replace the first −8 (strict >)
        x[16] = -7.6f; x[17] = 3.5f;
        var b = Q(Q4_0Format.Instance, x);
        // m = −8 → d = 1 (0x3C00), q = min(15, (int)(x + 8.5)): −8→0, 4→12, 7.9→15 (16 clamped), 8→15, −0.5→8, 0→8, −7.6→0, 3.5→12.
        Assert.Equal(new byte[] { 0x00, 0x3C, 0x00, 0xCC, 0x8F, 0x8F, 0x88 }, b[..7]);
        Assert.All(b[7..], v => Assert.Equal(0x88, v));
        var w = new float[32];
        Q4_0Format.Instance.DequantizeRowReference(b, w);
        Assert.Equal(-8f, w[0]);
        Assert.Equal(7f, w[3]); // +8 is out of reach of the asymmetric code range
    }

    [Fact]
    public void Q4_0WithAPositiveMaximumFlipsTheScale()
    {
        var x = new float[32];
        x[0] = 8; x[1] = -8;
        var b = Q(Q4_0Format.Instance, x);
        Assert.Equal(new byte[] { 0x00, 0xBC }, b[..2]); // d = 8/−8 = −1
        var w = new float[32];
        Q4_0Format.Instance.DequantizeRowReference(b, w);
        Assert.Equal(8f, w[0]);
        Assert.Equal(-7f, w[1]); // −8·id + 8.5 = 16.5 → 16 → clamped to 15 → (15 − 8)·(−1)
    }

    [Fact]
    public void Q1_0StoresSignBitsAndTheMeanMagnitude()
    {
        var x = new float[128];
        for (int j = 0; j < 128; j++) x[j] = j % 2 == 0 ? 1 : -1;
        x[3] = -0.0f; x[5] = 0;           // both count as ≥ 0
        var b = Q(Q1_0Format.Instance, x);
        // Σ|x| = 126 → d = 126/128 = 0.984375 = fp16 0x3BE0; even bits set → 0x55, byte 0 also bits 3 and 5 → 0x7D.
        Assert.Equal(new byte[] { 0xE0, 0x3B, 0x7D }, b[..3]);
        Assert.All(b[3..], v => Assert.Equal(0x55, v));
    }

    [Fact]
    public void Int4ConstantGroupsStayFinite()
    {
        foreach (var f in new[] { Int4Format.G128, Int4Format.G64, Int4Format.G32 })
        {
            foreach (float c in new[] { 0f, 0.3f, -2.5f })
            {
                var x = Enumerable.Repeat(c, f.GroupSize * 2).ToArray();
                var b = Q(f, x);
                var w = new float[x.Length];
                f.DequantizeRow(b, w);
                // The 1e-6 range floor gives a tiny scale; what remains is the bf16 rounding of the zero point (2^-9 relative).
                Assert.All(w, v => Assert.True(float.IsFinite(v) && Math.Abs(v - c) <= Math.Abs(c) / 256 + 1e-6, $"{f.Name}: {v} for constant {c}"));
            }
        }
    }

    [Fact]
    public void Int8ZeroRowUsesTheScaleFloor()
    {
        var b = Q(Int8Format.Instance, new float[40]);
        Assert.Equal(Int8Format.ScaleFloor, BitConverter.ToSingle(b, 0));
        Assert.All(b[4..], v => Assert.Equal(0, v));
    }
}
