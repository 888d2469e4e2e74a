// Q6_KKernels: decode GEMV for q6_k — each super-block dequantized into registers/stack and dotted with float x.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>
/// Float-activation GEMV for Q6_K: the AVX2 path rebuilds the 6-bit codes of 32 weights at a time in
/// registers and FMAs them (times d·scale) with x; the scalar path dequantizes a super-block into a
/// stack buffer. An integer Q8_K kernel, as llama.cpp has, would be the next tuning step.
/// </summary>
public static unsafe class Q6_KKernels
{
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: false, 0,
            Avx2.IsSupported && Fma.IsSupported ? &DotAvx2 : &Dot);

    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        var m4 = Vector256.Create((byte)0x0f);
        var m30 = Vector256.Create((byte)0x30);
        var bias = Vector256.Create((sbyte)32);
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < c->Cols / 256; b++)
        {
            var blk = (BlockQ6_K*)(row + b * BlockQ6_K.Size);
            float d = (float)blk->D;
            for (int h = 0; h < 2; h++)
            {
                byte* ql = blk->Ql + 64 * h;
                var l0 = Avx.LoadVector256(ql);
                var l1 = Avx.LoadVector256(ql + 32);
                var qh = Avx.LoadVector256(blk->Qh + 32 * h);
                // Byte lanes have no 8-bit shifts; 16-bit shifts plus masks keep each byte's bits in place.
                var q1 = Avx2.Or(Avx2.And(l0, m4), Avx2.And(Avx2.ShiftLeftLogical(qh.AsUInt16(), 4).AsByte(), m30));
                var q2 = Avx2.Or(Avx2.And(l1, m4), Avx2.And(Avx2.ShiftLeftLogical(qh.AsUInt16(), 2).AsByte(), m30));
                var q3 = Avx2.Or(Avx2.And(Avx2.ShiftRightLogical(l0.AsUInt16(), 4).AsByte(), m4), Avx2.And(qh, m30));
                var q4 = Avx2.Or(Avx2.And(Avx2.ShiftRightLogical(l1.AsUInt16(), 4).AsByte(), m4), Avx2.And(Avx2.ShiftRightLogical(qh.AsUInt16(), 2).AsByte(), m30));
                sbyte* sc = blk->Scales + 8 * h;
                float* x = c->X + b * 256 + 128 * h;
                acc = Accumulate(Avx2.Subtract(q1.AsSByte(), bias), d * sc[0], d * sc[1], x, acc);
                acc = Accumulate(Avx2.Subtract(q2.AsSByte(), bias), d * sc[2], d * sc[3], x + 32, acc);
                acc = Accumulate(Avx2.Subtract(q3.AsSByte(), bias), d * sc[4], d * sc[5], x + 64, acc);
                acc = Accumulate(Avx2.Subtract(q4.AsSByte(), bias), d * sc[6], d * sc[7], x + 96, acc);
            }
        }
        return IntDot.HSum(acc);
    }

    /// <summary>acc += Σ over 32 codes: code·scale·x, the first 16 codes with s0, the last 16 with s1.</summary>
    private static Vector256<float> Accumulate(Vector256<sbyte> q, float s0, float s1, float* x, Vector256<float> acc)
    {
        var lo = q.GetLower();
        var hi = q.GetUpper();
        var v0 = Vector256.Create(s0);
        var v1 = Vector256.Create(s1);
        acc = Fma.MultiplyAdd(Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(lo)), v0), Avx.LoadVector256(x), acc);
        acc = Fma.MultiplyAdd(Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(lo, 8))), v0), Avx.LoadVector256(x + 8), acc);
        acc = Fma.MultiplyAdd(Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(hi)), v1), Avx.LoadVector256(x + 16), acc);
        acc = Fma.MultiplyAdd(Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(hi, 8))), v1), Avx.LoadVector256(x + 24), acc);
        return acc;
    }

    internal static float Dot(byte* row, GemvContext* c)
    {
        float* w = stackalloc float[256];
        float sum = 0;
        for (int b = 0; b < c->Cols / 256; b++)
        {
            Q6_KFormat.DequantizeBlock((BlockQ6_K*)(row + b * BlockQ6_K.Size), w);
            sum += TiledGemm.Dot(w, c->X + b * 256, 256);
        }
        return sum;
    }
}
