// KernelPrimitiveTests: half conversion and activation quantization, SIMD against scalar (kernels: IsaDispatchTests).
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

public unsafe class KernelPrimitiveTests
{
    [Fact]
    public void HalfConversionIsExactForAll65536Values()
    {
        var bits = new ushort[8];
        for (int h = 0; h < 65536; h += 8)
        {
            for (int i = 0; i < 8; i++) bits[i] = (ushort)(h + i);
            fixed (ushort* p = bits)
            {
                var v = HalfConvert.Load8(p);
                for (int i = 0; i < 8; i++)
                {
                    float expected = (float)BitConverter.UInt16BitsToHalf(bits[i]);
                    Assert.True(float.IsNaN(expected) ? float.IsNaN(v[i]) : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(v[i]), $"half 0x{bits[i]:X4}");
                    Assert.True(float.IsNaN(expected) ? float.IsNaN(HalfConvert.ToFloat(bits[i])) : expected == HalfConvert.ToFloat(bits[i]) || float.IsNaN(expected));
                }
            }
        }
    }

    [Fact]
    public void Avx512HalfConversionIsExactForAll65536Values()
    {
        if (!KernelIsa.IsSupported(IsaLevel.Avx512)) return;
        var bits = new ushort[16];
        for (int h = 0; h < 65536; h += 16)
        {
            for (int i = 0; i < 16; i++) bits[i] = (ushort)(h + i);
            fixed (ushort* p = bits)
            {
                var v = HalfConvert.Load16(p);
                var b = HalfConvert.LoadBf16x16(p);
                for (int i = 0; i < 16; i++)
                {
                    float expected = (float)BitConverter.UInt16BitsToHalf(bits[i]);
                    Assert.True(float.IsNaN(expected) ? float.IsNaN(v[i]) : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(v[i]), $"half 0x{bits[i]:X4}");
                    Assert.Equal(BitConverter.SingleToInt32Bits(HalfConvert.Bf16ToFloat(bits[i])), BitConverter.SingleToInt32Bits(b[i]));
                }
            }
        }
    }

    [Fact]
    public void SimdActivationQuantizationEqualsScalar()
    {
        var x = TestData.Gaussian(32 * 9, 11);
        x.AsSpan(32, 32).Clear();
        for (int i = 64; i < 96; i++) x[i] = (i - 80) * 0.5f; // ties after scaling
        var act = ActivationQ8.Quantize(x);
        var q = new sbyte[32];
        fixed (float* px = x)
        fixed (sbyte* pq = q)
        {
            for (int b = 0; b < 9; b++)
            {
                ActivationQ8.QuantizeBlockScalar(px + 32 * b, pq, out float d, out float s);
                Assert.Equal(d, act.D[b]);
                Assert.Equal(s, act.S[b]);
                for (int j = 0; j < 32; j++) Assert.Equal(q[j], act.Q[32 * b + j]);
            }
        }
    }
}
