// KernelPrimitiveTests: half conversion and activation quantization, SIMD against scalar (kernels: IsaDispatchTests).
using System.Runtime.Intrinsics;
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

    /// <summary>The wide loads test for zeros, subnormals, Inf and NaN once per 16 or 32 values: every value exact,
    /// in runs of consecutive values (the fast path) and with one special value planted at each position of a run of
    /// normals (the exact path must take the whole vector).</summary>
    [Fact]
    public void WideHalfLoadsAreExactForAll65536ValuesAndEverySpecialPosition()
    {
        var bits = new ushort[32];
        void Check(int width)
        {
            fixed (ushort* p = bits)
            {
                var got = new float[32];
                if (width == 32)
                {
                    HalfConvert.Load32(p, out var lo, out var hi);
                    lo.CopyTo(got.AsSpan()); hi.CopyTo(got.AsSpan(16));
                }
                else
                {
                    HalfConvert.Load16Pair(p, out var lo, out var hi);
                    lo.CopyTo(got.AsSpan()); hi.CopyTo(got.AsSpan(8));
                }
                for (int i = 0; i < width; i++)
                {
                    float expected = (float)BitConverter.UInt16BitsToHalf(bits[i]);
                    Assert.True(float.IsNaN(expected) ? float.IsNaN(got[i]) : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(got[i]),
                        $"width {width}, half 0x{bits[i]:X4} at {i}: {got[i]:R}");
                }
            }
        }
        foreach (int width in KernelIsa.IsSupported(IsaLevel.Avx512) ? new[] { 16, 32 } : new[] { 16 })
        {
            for (int h = 0; h < 65536; h += width)
            {
                for (int i = 0; i < width; i++) bits[i] = (ushort)(h + i);
                Check(width);
            }
            foreach (ushort special in new ushort[] { 0x0000, 0x8000, 0x0001, 0x83ff, 0x7c00, 0xfc00, 0x7e01 })
                for (int pos = 0; pos < width; pos++)
                {
                    for (int i = 0; i < width; i++) bits[i] = (ushort)(0x3c00 + 37 * i); // normals
                    bits[pos] = special;
                    Check(width);
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
