// ImatrixTests: importance-weighted rounding — equal weights reduce q1_0 to its reference scale, and the weighted error
// it reaches is never above round-to-nearest's.
using Compression.Quantization;
using Compression.Quantization.Methods;

namespace Compression.Tests.Quantization.Methods;

public class ImatrixTests
{
    [Fact]
    public void Equal_importance_gives_q1_0s_reference_scale()
    {
        var format = FormatRegistry.Get("q1_0");
        int rows = 4, cols = 384;
        var w = TestData.Gaussian(rows * cols, 3, 0.05f);
        var ones = Enumerable.Repeat(1f, cols).ToArray();
        Assert.Equal(TestData.Quantize(format, w, rows, cols), ImatrixMethod.Quantize(w, rows, cols, ones, format));
    }

    [Theory]
    [MemberData(nameof(BlockCodecTests.CodecFormats), MemberType = typeof(BlockCodecTests))]
    public void Weighted_error_is_never_above_round_to_nearest(string name)
    {
        var format = BlockCodecTests.Format(name);
        int rows = 8, cols = format.BlockSize * 2;
        var w = TestData.Gaussian(rows * cols, 4, 0.05f);
        var importance = TestData.Gaussian(cols, 5).Select(v => v * v + 0.01f).ToArray();
        double Err(byte[] packed)
        {
            var q = TestData.Dequantize(format, packed, rows, cols);
            double e = 0;
            for (int i = 0; i < w.Length; i++) e += importance[i % cols] * (w[i] - q[i]) * (w[i] - q[i]);
            return e;
        }
        double rtn = Err(TestData.Quantize(format, w, rows, cols)), weighted = Err(ImatrixMethod.Quantize(w, rows, cols, importance, format));
        Assert.True(weighted <= rtn * (1 + 1e-6), $"{name}: weighted error {weighted:G4} > RTN {rtn:G4}");
        if (format.NominalBits <= 4) Assert.True(weighted < rtn, $"{name}: the search found nothing better than RTN ({rtn:G4})");
    }
}
