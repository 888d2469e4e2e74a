// KernelPrimitiveTests: half conversion, activation quantization and the scalar kernel fallbacks against the SIMD paths.
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

    public static TheoryData<string> IntegerKernelFormats => ["q8_0", "q4_0", "q1_0", "int8", "int4", "int4_g64", "int4_g32", "q6_k"];

    [Theory, MemberData(nameof(IntegerKernelFormats))]
    public void ScalarKernelFallbackMatchesAvx2(string name)
    {
        var f = FormatRegistry.Get(name);
        delegate*<byte*, GemvContext*, float> simd, scalar;
        switch (name)
        {
            case "q8_0": simd = &Q8_0Kernels.DotAvx2; scalar = &Q8_0Kernels.DotScalar; break;
            case "q4_0": simd = &Q4_0Kernels.DotAvx2; scalar = &Q4_0Kernels.DotScalar; break;
            case "q1_0": simd = &Q1_0Kernels.DotAvx2; scalar = &Q1_0Kernels.DotScalar; break;
            case "q6_k": simd = &Q6_KKernels.DotAvx2; scalar = &Q6_KKernels.Dot; break;
            case "int8": simd = &Int8Kernels.DotAvx2; scalar = &Int8Kernels.DotScalar; break;
            default: simd = &Int4Kernels.DotAvx2; scalar = &Int4Kernels.DotScalar; break;
        }
        int param = f is Compression.Quantization.Formats.Int4Format i4 ? i4.GroupSize : 0;
        foreach (int cols in TestData.RowLengths(f).Where(c => c % 32 == 0).Take(9))
        {
            const int rows = 7;
            var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, cols), rows, cols);
            var x = TestData.Gaussian(cols, cols + 1);
            var y1 = new float[rows];
            var y2 = new float[rows];
            GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y1, true, param, simd);
            GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y2, true, param, scalar);
            for (int r = 0; r < rows; r++)
                Assert.True(Math.Abs(y1[r] - y2[r]) <= 1e-4f * (1 + Math.Abs(y2[r])), $"{name} cols={cols} row {r}: {y1[r]} vs {y2[r]}");
        }
    }
}
