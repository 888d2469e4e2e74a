// TernaryFormatTests: tq1_0/tq2_0 blocks worked out by hand from llama.cpp's rules, the two formats holding the same
// values, Q8_K activations by hand, and the ternary GEMV bit-identical on every ISA level (integer block sums).
using Compression.Kernels;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Tests.Quantization;

public class TernaryFormatTests
{
    private static byte[] Q(TensorFormat f, float[] x)
    {
        var b = new byte[f.RowBytes(x.Length)];
        f.QuantizeRowReference(x, b);
        return b;
    }

    [Fact]
    public void OneNegativeWeightAmongZerosPacksAsWorkedOutByHand()
    {
        var x = new float[256];
        x[0] = -1; // amax 1 → d = fp16 1.0 (0x3C00); weight 0 → trit 0 (−1), every other weight → trit 1 (0)
        var tq2 = Q(TQ2_0Format.Instance, x);
        // qs[m] bit pair l = code of weight 32l + m (first 128), so qs[0] = 0b01_01_01_00; then d.
        Assert.Equal(0x54, tq2[0]);
        Assert.All(tq2[1..64], v => Assert.Equal(0x55, v));
        Assert.Equal(new byte[] { 0x00, 0x3C }, tq2[64..]);

        var tq1 = Q(TQ1_0Format.Instance, x);
        // qs[0] holds weights 0, 32, 64, 96, 128 as trits 0,1,1,1,1 → 0·81 + 27 + 9 + 3 + 1 = 40 → ⌈40·256/243⌉ = 43;
        // every other five-trit byte 1,1,1,1,1 = 121 → ⌈121·256/243⌉ = 128; qh: trits 1,1,1,1 = 40, ×3 = 120 → 127.
        Assert.Equal(43, tq1[0]);
        Assert.All(tq1[1..48], v => Assert.Equal(128, v));
        Assert.All(tq1[48..52], v => Assert.Equal(127, v));
        Assert.Equal(new byte[] { 0x00, 0x3C }, tq1[52..]);
    }

    [Fact]
    public void HalvesRoundAwayFromZeroAndTheScaleIsTheLargestMagnitude()
    {
        var x = new float[256];
        x[0] = 4; x[1] = 2; x[2] = -2; x[3] = 1.9f; x[4] = -4;  // id = 1/4: ±0.5 → ±1 (lroundf), 0.475 → 0
        var back = new float[256];
        foreach (var f in new TensorFormat[] { TQ2_0Format.Instance, TQ1_0Format.Instance })
        {
            f.DequantizeRowReference(Q(f, x), back);
            Assert.Equal(new float[] { 4, 4, -4, 0, -4, 0 }, back[..6]);
            Assert.All(back[6..], v => Assert.Equal(0f, v));
        }
        var zeros = new float[256];
        var z = Q(TQ1_0Format.Instance, zeros); // amax 0 → id 0: every trit 1 (zero), d = 0
        Assert.All(z[..48], v => Assert.Equal(128, v));
        Assert.All(z[48..52], v => Assert.Equal(127, v));
        Assert.Equal(new byte[] { 0, 0 }, z[52..]);
    }

    [Fact]
    public void BothFormatsHoldTheSameValues()
    {
        const int rows = 7, cols = 768;
        var w = TestData.Gaussian(rows * cols, 41);
        for (int i = 0; i < w.Length; i += 5) w[i] = MathF.Round(w[i] * 4) / 4; // exact halves of the scale now and then
        var a = TestData.Dequantize(TQ2_0Format.Instance, TestData.Quantize(TQ2_0Format.Instance, w, rows, cols), rows, cols);
        var b = TestData.Dequantize(TQ1_0Format.Instance, TestData.Quantize(TQ1_0Format.Instance, w, rows, cols), rows, cols);
        Assert.Equal(a, b);
    }

    [Fact]
    public unsafe void Q8KActivationsAreQuantizedAsLlamaCppDoes()
    {
        var x = new float[256];
        x[0] = 2; x[1] = -1; x[2] = 0.5f; // max = +2: iscale = −127/2 = −63.5, so d = 1/iscale is negative
        var a = ActivationQ8K.Quantize(x);
        Assert.Equal(new sbyte[] { -127, 64, -32, 0 }, new ReadOnlySpan<sbyte>(a.Q, 4).ToArray()); // 63.5 → 64, −31.75 → −32
        Assert.Equal(1f / -63.5f, a.D[0]);
        Assert.Equal(-127 + 64 - 32, a.Sum[0]);
        x = new float[256];
        x[0] = -127; x[1] = 62.5f; x[2] = -0.5f; x[3] = 2.5f; x[4] = 63.5f; // iscale = 1: nearest_int rounds halves to even
        a = ActivationQ8K.Quantize(x);
        Assert.Equal(new sbyte[] { -127, 62, 0, 2, 64 }, new ReadOnlySpan<sbyte>(a.Q, 5).ToArray());
        Assert.Equal(1f, a.D[0]);
        var zero = ActivationQ8K.Quantize(new float[512]);
        Assert.Equal(0f, zero.D[1]);
        Assert.Throws<ArgumentException>(() => ActivationQ8K.Quantize(new float[128]));
    }

    [Theory]
    [InlineData("tq2_0")]
    [InlineData("tq1_0")]
    public void GemvIsBitIdenticalOnEveryIsaLevelAndAcrossTheTwoFormats(string name)
    {
        var f = FormatRegistry.Get(name);
        const int rows = 19, cols = 1280;
        var w = TestData.Gaussian(rows * cols, 5);
        var x = TestData.Gaussian(cols, 6);
        var packed = TestData.Quantize(f, w, rows, cols);
        var other = name == "tq2_0" ? (TensorFormat)TQ1_0Format.Instance : TQ2_0Format.Instance;
        var packedOther = TestData.Quantize(other, w, rows, cols);
        float[]? first = null;
        foreach (var level in KernelIsa.Supported())
        {
            var y = new float[rows];
            var y2 = new float[rows];
            using (KernelIsa.Override(level))
            {
                f.Gemv(packed, rows, cols, x, y);
                other.Gemv(packedOther, rows, cols, x, y2);
            }
            first ??= y;
            Assert.Equal(first.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(y.Select(BitConverter.SingleToInt32Bits), y2.Select(BitConverter.SingleToInt32Bits));
        }
    }
}
