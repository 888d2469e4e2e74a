// q6_k: GGUF type 14 — super-blocks of 256 6-bit codes with 16 int8 sub-scales and an fp16 scale (6.5625 bpw).
using System.Runtime.InteropServices;
using Compression.Kernels;

namespace Compression.Quantization.Formats;

/// <summary>ggml's <c>block_q6_K</c>: low 4 bits in ql, high 2 bits in qh, one int8 scale per 16 weights.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6_K
{
    public const int Size = 210;
    public fixed byte Ql[128];
    public fixed byte Qh[64];
    public fixed sbyte Scales[16];
    public Half D;
}

/// <summary>
/// Q6_K, llama.cpp's choice for <c>output.weight</c> in its 4-bit presets. Dequantization follows
/// <c>dequantize_row_q6_K</c>; quantization follows <c>quantize_row_q6_K_ref</c> (make_qx_quants with
/// rmse_type 1 per 16 weights). The quantizer is a faithful port but not promised byte-identical:
/// its float sums may be contracted to FMAs by the C compiler.
/// </summary>
public sealed unsafe class Q6_KFormat : TensorFormat
{
    public static readonly Q6_KFormat Instance = new();
    private const float GroupMaxEps = 1e-15f;

    public override string Name => "q6_k";
    public override int? GgmlTypeId => 14;
    public override int BlockSize => 256;
    public override int BytesPerBlock => BlockQ6_K.Size;
    public override int NominalBits => 6;
    public override string Description => "GGUF Q6_K: 6-bit super-blocks of 256 with int8 sub-scales (6.5625 bpw)";

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            for (int i = 0; i < dst.Length / 256; i++) DequantizeBlock((BlockQ6_K*)(ps + i * BlockQ6_K.Size), pd + i * 256);
        }
    }

    internal static void DequantizeBlock(BlockQ6_K* x, float* y)
    {
        float d = (float)x->D;
        byte* ql = x->Ql; byte* qh = x->Qh; sbyte* sc = x->Scales;
        for (int n = 0; n < 256; n += 128)
        {
            for (int l = 0; l < 32; l++)
            {
                int isc = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[isc] * q1;
                y[l + 32] = d * sc[isc + 2] * q2;
                y[l + 64] = d * sc[isc + 4] * q3;
                y[l + 96] = d * sc[isc + 6] * q4;
            }
            y += 128; ql += 64; qh += 32; sc += 8;
        }
    }

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        fixed (float* px = src)
        fixed (byte* py = dst)
        {
            for (int i = 0; i < src.Length / 256; i++) QuantizeBlock(px + i * 256, (BlockQ6_K*)(py + i * BlockQ6_K.Size));
        }
    }

    private static void QuantizeBlock(float* x, BlockQ6_K* y)
    {
        sbyte* L = stackalloc sbyte[256];
        float* scales = stackalloc float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++)
        {
            float scale = MakeQxQuants(16, 32, x + 16 * ib, L + 16 * ib);
            scales[ib] = scale;
            if (MathF.Abs(scale) > maxAbsScale) { maxAbsScale = MathF.Abs(scale); maxScale = scale; }
        }
        *y = default;
        if (maxAbsScale < GroupMaxEps) return; // all zero: d = 0, codes 0
        float iscale = -128f / maxScale;
        y->D = (Half)(1 / iscale);
        for (int ib = 0; ib < 16; ib++) y->Scales[ib] = (sbyte)Math.Min(127, NearestInt(iscale * scales[ib]));
        for (int j = 0; j < 16; j++)
        {
            float d = (float)y->D * y->Scales[j];
            if (d == 0) continue;
            for (int ii = 0; ii < 16; ii++)
            {
                int l = Math.Clamp(NearestInt(x[16 * j + ii] / d), -32, 31);
                L[16 * j + ii] = (sbyte)(l + 32);
            }
        }
        byte* ql = y->Ql; byte* qh = y->Qh;
        for (int j = 0; j < 256; j += 128)
        {
            for (int l = 0; l < 32; l++)
            {
                int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l] = (byte)(q1 | (q3 << 4));
                ql[l + 32] = (byte)(q2 | (q4 << 4));
                qh[l] = (byte)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
            ql += 64; qh += 32;
        }
    }

    /// <summary>llama.cpp's nearest_int: round half to even through the 1.5·2^23 trick (valid for |v| &lt; 2^22).</summary>
    private static int NearestInt(float v)
    {
        float val = v + 12582912f;
        return (BitConverter.SingleToInt32Bits(val) & 0x007fffff) - 0x00400000;
    }

    /// <summary>make_qx_quants(n, nmax, x, L, rmse_type = 1, qw = NULL): weighted least-squares scale search.</summary>
    private static float MakeQxQuants(int n, int nmax, float* x, sbyte* L)
    {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            for (int i = 0; i < n; i++) L[i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            L[i] = (sbyte)(l + nmax);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int it = -9; it <= 9; it++)
        {
            if (it == 0) continue;
            iscale = -(nmax + 0.1f * it) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
                float w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; i++)
                    L[i] = (sbyte)(nmax + Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Q6_KKernels.Gemv(this, packed, rows, cols, x, y);

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
