// GPTQ packing against words packed by hand from the format's description — AutoGPTQ's "gptq" (v1) checkpoint format
// as GPTQModel's wiki ("Packing Formats and Compatibility") and vLLM's GPTQ loader describe it: qweight int32
// [in/8, out] with value j of a word at bits b·j, qzeros int32 [in/group, out/8] packed along outputs with each zero
// stored minus one (the v1 convention vLLM's gptq_v2 work contrasts with), scales fp16 [in/group, out], g_idx int32
// [in] — so every symmetric 4-bit checkpoint's qzeros are 0x77777777.
using Compression.Quantization.Formats;
using Compression.Export.HfGptq;

namespace Compression.Tests.Export;

public class GptqPackingTests
{
    // q[n, k] = (n + 3k) mod 2^bits for an 8-output × 16-input linear.
    private static byte[] Codes(int n, int k, int bits)
    {
        var q = new byte[n * k];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < k; c++) q[r * k + c] = (byte)((r + 3 * c) % (1 << bits));
        return q;
    }

    [Fact]
    public void Four_bit_qweight_matches_hand_packed_words()
    {
        var packed = GptqPacking.PackWeight(Codes(8, 16, 4), 8, 16, 4); // [16/8, 8]
        Assert.Equal(16, packed.Length);
        // qweight[0, 0]: row 0, inputs 0..7 = 0,3,6,9,12,15,2,5 → nibbles from the low end.
        Assert.Equal(unchecked((int)0x52FC9630u), packed[0 * 8 + 0]);
        // qweight[1, 0]: row 0, inputs 8..15 = 8,11,14,1,4,7,10,13.
        Assert.Equal(unchecked((int)0xDA741EB8u), packed[1 * 8 + 0]);
        // qweight[0, 1]: row 1, inputs 0..7 = 1,4,7,10,13,0,3,6.
        Assert.Equal(unchecked((int)0x630DA741u), packed[0 * 8 + 1]);
    }

    [Fact]
    public void Eight_bit_qweight_matches_hand_packed_words()
    {
        var packed = GptqPacking.PackWeight(Codes(8, 16, 8), 8, 16, 8); // [16/4, 8]
        Assert.Equal(0x09060300, packed[0]); // row 0, inputs 0..3 = 0,3,6,9 as bytes from the low end
    }

    [Fact]
    public void Qzeros_store_each_zero_minus_one_along_outputs()
    {
        // Symmetric 4-bit: every zero is 8, stored as 7 in every nibble.
        var sym = GptqPacking.PackZeros(Enumerable.Repeat((byte)8, 8 * 2).ToArray(), 8, 2, 4);
        Assert.Equal([0x77777777, 0x77777777], sym);
        // zero[n, g] = n + 1 → stored n: word = 0x76543210 for both groups.
        var z = new byte[8 * 2];
        for (int n = 0; n < 8; n++) { z[n * 2] = (byte)(n + 1); z[n * 2 + 1] = (byte)(n + 1); }
        Assert.Equal([0x76543210, 0x76543210], GptqPacking.PackZeros(z, 8, 2, 4));
        // Symmetric 8-bit: zero 128, stored 127 = 0x7F in every byte; 8 outputs take two words per group.
        Assert.Equal([0x7F7F7F7F, 0x7F7F7F7F, 0x7F7F7F7F, 0x7F7F7F7F], GptqPacking.PackZeros(Enumerable.Repeat((byte)128, 8 * 2).ToArray(), 8, 2, 8));
        Assert.Throws<ArgumentException>(() => GptqPacking.PackZeros(new byte[16], 8, 2, 4)); // zero 0 cannot be stored as −1
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void Unpacking_inverts_packing(int bits)
    {
        var rng = new Random(bits);
        int n = 16, k = 64, groups = 2;
        var q = new byte[n * k];
        for (int i = 0; i < q.Length; i++) q[i] = (byte)rng.Next(1 << bits);
        var z = new byte[n * groups];
        for (int i = 0; i < z.Length; i++) z[i] = (byte)(1 + rng.Next((1 << bits) - 1));
        Assert.Equal(q, GptqPacking.UnpackWeight(GptqPacking.PackWeight(q, n, k, bits), n, k, bits));
        Assert.Equal(z, GptqPacking.UnpackZeros(GptqPacking.PackZeros(z, n, groups, bits), n, groups, bits));
    }

    [Fact]
    public void Rtn_symmetric_group_by_hand()
    {
        // max|x| = 1.5 → scale = 3/15 = 0.2 (fp16 0.199951171875), zero 8, q = round(x/s) + 8.
        float[] x = [-1.5f, -0.2f, 0f, 0.1f, 0.3f, 1.5f, 0.7f, -0.9f];
        var codes = new byte[8];
        var scales = new Half[1];
        var zeros = new byte[1];
        GptqRtn.QuantizeRow(x, 4, 8, symmetric: true, codes, scales, zeros);
        Assert.Equal((Half)0.2f, scales[0]);
        Assert.Equal(8, zeros[0]);
        float s = (float)(Half)0.2f;
        // −1.5/s = −7.5018 → −8 → 0; −0.2/s = −1.0002 → 7; 0 → 8; 0.1/s = 0.5001 → 9; 0.3/s = 1.5004 → 10;
        // 1.5/s = 7.5018 → 8 → 16, clamped to 15; 0.7/s = 3.5009 → 12; −0.9/s = −4.5011 → 3.
        Assert.Equal(new byte[] { 0, 7, 8, 9, 10, 15, 12, 3 }, codes);
        Assert.Equal(s * (0 - 8), GptqRtn.Dequantize(codes[0], scales[0], zeros[0]));
    }
}
