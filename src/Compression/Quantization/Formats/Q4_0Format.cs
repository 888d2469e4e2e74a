// q4_0: GGUF type 2 — blocks of 32 4-bit codes with one fp16 scale (4.5 bpw), llama.cpp's reference quantizer.
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Kernels;

namespace Compression.Quantization.Formats;

/// <summary>ggml's <c>block_q4_0</c>: element j in the low nibble of qs[j], element j+16 in the high nibble; w = (q−8)·d.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_0
{
    public const int Size = 18;
    public Half D;
    public fixed byte Qs[16];
}

/// <summary>
/// Q4_0 exactly as <c>quantize_row_q4_0_ref</c>: m = the value of largest magnitude (first one, with its
/// sign), <c>d = m/−8</c>, <c>id = d ? 1/d : 0</c>, <c>q = min(15, (int8)(x·id + 8.5))</c> — truncation, so
/// the range is asymmetric: m maps to code 0 and −m would need code 16, which is clamped to 15.
/// </summary>
public sealed unsafe class Q4_0Format : TensorFormat
{
    public static readonly Q4_0Format Instance = new();
    public override string Name => "q4_0";
    public override int? GgmlTypeId => 2;
    public override int BlockSize => 32;
    public override Methods.Codecs.BlockCodec Codec => Methods.Codecs.Q4_0Codec.Instance;
    public override int BytesPerBlock => BlockQ4_0.Size;
    public override int NominalBits => 4;
    public override string Description => "GGUF Q4_0: 4-bit blocks of 32, fp16 scale (4.5 bpw)";

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = MemoryMarshal.Cast<byte, BlockQ4_0>(dst);
        for (int b = 0; b < src.Length / 32; b++)
        {
            var x = src.Slice(b * 32, 32);
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++)
            {
                if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
            }
            float d = max / -8f;
            float id = d != 0 ? 1f / d : 0f;
            ref var blk = ref blocks[b];
            blk.D = (Half)d;
            for (int j = 0; j < 16; j++)
                blk.Qs[j] = (byte)(Code(x[j] * id) | (Code(x[16 + j] * id) << 4));
        }
    }

    /// <summary>(int8)(v + 8.5) truncates toward zero; v·id ≥ −8 (up to rounding) keeps it ≥ 0, the clamp keeps it ≤ 15.</summary>
    private static int Code(float v) => Math.Clamp((int)(v + 8.5f), 0, 15);

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = MemoryMarshal.Cast<byte, BlockQ4_0>(src);
        for (int b = 0; b < dst.Length / 32; b++)
        {
            float d = (float)blocks[b].D;
            for (int j = 0; j < 16; j++)
            {
                dst[b * 32 + j] = ((blocks[b].Qs[j] & 0x0f) - 8) * d;
                dst[b * 32 + j + 16] = ((blocks[b].Qs[j] >> 4) - 8) * d;
            }
        }
    }

    public override void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!Avx2.IsSupported) { DequantizeRowReference(src, dst); return; }
        if (dst.Length % 32 != 0 || src.Length < RowBytes(dst.Length))
            throw new ArgumentException($"{Name}: row of {dst.Length} values does not fit {src.Length} bytes");
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            var eight = Vector256.Create((sbyte)8);
            for (int b = 0; b < dst.Length / 32; b++)
            {
                var blk = (BlockQ4_0*)(ps + b * BlockQ4_0.Size);
                var q = Avx2.Subtract(IntDot.Nibbles32(blk->Qs).AsSByte(), eight);
                var d = Vector256.Create((float)blk->D);
                var lo = q.GetLower(); var hi = q.GetUpper();
                float* y = pd + b * 32;
                Avx.Store(y, Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(lo)), d));
                Avx.Store(y + 8, Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(lo, 8))), d));
                Avx.Store(y + 16, Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(hi)), d));
                Avx.Store(y + 24, Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(hi, 8))), d));
            }
        }
    }

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Q4_0Kernels.Gemv(this, packed, rows, cols, x, y);

    /// <summary>Eight-row groups, one row per int32 lane (<see cref="Q4_0Kernels.WriteLayout"/>).</summary>
    public override long DecodeLayoutBytes(int rows, int cols) => Q4_0Kernels.LayoutBytes(rows, RowBytes(cols));

    public override bool HasDecodeLayout => true;

    public override unsafe void WriteDecodeLayout(byte* packed, int rows, int cols, byte* layout) =>
        Q4_0Kernels.WriteLayout(packed, rows, cols, layout);

    /// <summary>The scalar reference's bits (<see cref="Q4_0Kernels.Gemv(TensorFormat, ReadOnlySpan{byte}, byte*, int, int, ReadOnlySpan{float}, Span{float})"/>),
    /// which the file's kernels match only to rounding.</summary>
    public override unsafe void Gemv(ReadOnlySpan<byte> packed, byte* layout, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Q4_0Kernels.Gemv(this, packed, layout, rows, cols, x, y);

    public override bool GemmQuantizesActivations => true;

    /// <summary>Prefill: in float on dequantized tiles, or (<see cref="PrefillActivations.Mode.Q8"/>: generation and the
    /// throughput benchmark) as integer dot products against Q8 activations, as llama.cpp does (<see cref="IntPrefillGemm"/>).</summary>
    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        IntPrefillGemm.Prefill(this, packed, rows, cols, x, n, y);
}
