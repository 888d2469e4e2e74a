// q8_0: GGUF type 8 — blocks of 32 int8 with one fp16 scale (8.5 bpw), llama.cpp's reference quantizer.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Kernels;

namespace Compression.Quantization.Formats;

/// <summary>ggml's <c>block_q8_0</c>: w = qs[j]·d.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0
{
    public const int Size = 34;
    public Half D;
    public fixed sbyte Qs[32];
}

/// <summary>
/// Q8_0 exactly as <c>quantize_row_q8_0_ref</c>: <c>d = amax/127</c>, <c>id = d ? 1/d : 0</c>,
/// <c>q = roundf(x·id)</c> (half away from zero), d stored as fp16 (round to nearest even).
/// </summary>
public sealed unsafe class Q8_0Format : TensorFormat
{
    public static readonly Q8_0Format Instance = new();
    public override string Name => "q8_0";
    public override int? GgmlTypeId => 8;
    public override int BlockSize => 32;
    public override Methods.Codecs.BlockCodec Codec => Methods.Codecs.Q8_0Codec.Instance;
    public override int BytesPerBlock => BlockQ8_0.Size;
    public override int NominalBits => 8;
    public override string Description => "GGUF Q8_0: int8 blocks of 32, fp16 scale (8.5 bpw)";

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = MemoryMarshal.Cast<byte, BlockQ8_0>(dst);
        for (int b = 0; b < src.Length / 32; b++)
        {
            var x = src.Slice(b * 32, 32);
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            ref var blk = ref blocks[b];
            blk.D = (Half)d;
            for (int j = 0; j < 32; j++) blk.Qs[j] = (sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
        }
    }

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = MemoryMarshal.Cast<byte, BlockQ8_0>(src);
        for (int b = 0; b < dst.Length / 32; b++)
        {
            float d = (float)blocks[b].D;
            for (int j = 0; j < 32; j++) dst[b * 32 + j] = blocks[b].Qs[j] * d;
        }
    }

    public override void QuantizeRow(ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (!Avx2.IsSupported) { QuantizeRowReference(src, dst); return; }
        CheckRow(src.Length, dst.Length);
        fixed (float* px = src)
        fixed (byte* py = dst)
        {
            var abs = Vector256.Create(0x7fffffff).AsSingle();
            for (int b = 0; b < src.Length / 32; b++)
            {
                float* x = px + b * 32;
                var blk = (BlockQ8_0*)(py + b * BlockQ8_0.Size);
                var v0 = Avx.LoadVector256(x); var v1 = Avx.LoadVector256(x + 8);
                var v2 = Avx.LoadVector256(x + 16); var v3 = Avx.LoadVector256(x + 24);
                var m = Avx.Max(Avx.Max(Avx.And(v0, abs), Avx.And(v1, abs)), Avx.Max(Avx.And(v2, abs), Avx.And(v3, abs)));
                float amax = IntDot.HMax(m);
                float d = amax / 127f;
                float id = d != 0 ? 1f / d : 0f;
                blk->D = (Half)d;
                var vid = Vector256.Create(id);
                var i0 = Avx.ConvertToVector256Int32WithTruncation(RoundAway(Avx.Multiply(v0, vid)));
                var i1 = Avx.ConvertToVector256Int32WithTruncation(RoundAway(Avx.Multiply(v1, vid)));
                var i2 = Avx.ConvertToVector256Int32WithTruncation(RoundAway(Avx.Multiply(v2, vid)));
                var i3 = Avx.ConvertToVector256Int32WithTruncation(RoundAway(Avx.Multiply(v3, vid)));
                var p = Avx2.PackSignedSaturate(Avx2.PackSignedSaturate(i0, i1), Avx2.PackSignedSaturate(i2, i3));
                p = Avx2.PermuteVar8x32(p.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte();
                Avx.Store(blk->Qs, p);
            }
        }
    }

    /// <summary>roundf: nearest integer, halfway cases away from zero (exact: v − trunc(v) has no rounding error).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> RoundAway(Vector256<float> v)
    {
        var t = Avx.RoundToZero(v);
        var frac = Avx.Subtract(v, t);
        var half = Vector256.Create(0.5f);
        var up = Avx.And(Avx.CompareGreaterThanOrEqual(frac, half), Vector256.Create(1f));
        var down = Avx.And(Avx.CompareLessThanOrEqual(frac, -half), Vector256.Create(1f));
        return Avx.Subtract(Avx.Add(t, up), down);
    }

    public override void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!Avx2.IsSupported) { DequantizeRowReference(src, dst); return; }
        CheckRow(dst.Length, src.Length);
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            for (int b = 0; b < dst.Length / 32; b++)
            {
                var blk = (BlockQ8_0*)(ps + b * BlockQ8_0.Size);
                var d = Vector256.Create((float)blk->D);
                float* y = pd + b * 32;
                for (int k = 0; k < 4; k++)
                    Avx.Store(y + 8 * k, Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(blk->Qs + 8 * k)), d));
            }
        }
    }

    private void CheckRow(int cols, int bytes)
    {
        if (cols % 32 != 0 || bytes < RowBytes(cols))
            throw new ArgumentException($"{Name}: row of {cols} values needs a multiple of 32 and {RowBytes(Math.Max(0, cols / 32 * 32))} bytes, got {bytes}");
    }

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Q8_0Kernels.Gemv(this, packed, rows, cols, x, y);

    public override bool GemmQuantizesActivations => true;

    /// <summary>Prefill: in float on dequantized tiles, or (<see cref="PrefillActivations.Mode.Q8"/>: generation and the
    /// throughput benchmark) as integer dot products against Q8 activations, as llama.cpp does (<see cref="IntPrefillGemm"/>).</summary>
    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        IntPrefillGemm.Prefill(this, packed, rows, cols, x, n, y);
}
