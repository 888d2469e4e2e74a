// MatMulNBitsLayouts: how each workbench format's packed rows become com.microsoft MatMulNBits weights — one row per format.
using System.Runtime.InteropServices;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Export.Onnx;

/// <summary>
/// The MatMulNBits form of one format. B is uint8 [N, k_blocks, block·bits/8] with row n = output feature n and,
/// within a block, element j in byte j·bits/8 (for 4 bits: even j in the low nibble); scales are float [N, k_blocks];
/// ONNX Runtime dequantizes w = (q − zp)·scale with zp = 2^(bits−1) unless zero points are given. Each layout
/// re-encodes the workbench's own codes and scales, so the exported weights equal the workbench's dequantized ones
/// (to float rounding of the zero-point term for int4) — no second quantization.
/// </summary>
internal abstract class MatMulNBitsLayout
{
    public abstract int Bits { get; }
    /// <summary>Weights per block; <paramref name="requested"/> is the <c>--block</c> choice (used where the format leaves it free).</summary>
    public abstract int BlockSize(TensorFormat format, int requested);
    /// <summary>True when the layout writes float zero points (one per block, same shape as the scales).</summary>
    public virtual bool FloatZeroPoints => false;

    /// <summary>
    /// Re-encodes one packed row of <paramref name="cols"/> weights into <paramref name="b"/> (k_blocks·blob bytes,
    /// zero-filled by the caller), <paramref name="scales"/> and, for float zero points, <paramref name="zeros"/> (k_blocks each).
    /// </summary>
    public abstract void Convert(TensorFormat format, ReadOnlySpan<byte> row, int cols, int block, Span<byte> b, Span<float> scales, Span<float> zeros);

    /// <summary>The layout for <paramref name="format"/>, or null when MatMulNBits cannot express it exactly.</summary>
    public static MatMulNBitsLayout? For(TensorFormat format) => format switch
    {
        Int4Format => Int4.Instance,
        Int8Format => Int8.Instance,
        Q4_0Format => Q4_0.Instance,
        Q8_0Format => Q8_0.Instance,
        _ => null,
    };

    /// <summary>Workbench int4: codes move from "j and j+G/2 share a byte" to "j and j+1 share a byte"; zp = 8 − zero/scale.</summary>
    private sealed class Int4 : MatMulNBitsLayout
    {
        public static readonly Int4 Instance = new();
        public override int Bits => 4;
        public override int BlockSize(TensorFormat format, int requested) => ((Int4Format)format).GroupSize;
        public override bool FloatZeroPoints => true;

        public override void Convert(TensorFormat format, ReadOnlySpan<byte> row, int cols, int block, Span<byte> b, Span<float> scales, Span<float> zeros)
        {
            int g = block, half = g / 2, bytes = format.BytesPerBlock;
            for (int k = 0; k < cols / g; k++)
            {
                var blk = row.Slice(k * bytes, bytes);
                float s = BF16Format.ToFloat(MemoryMarshal.Read<ushort>(blk)), z = BF16Format.ToFloat(MemoryMarshal.Read<ushort>(blk[2..]));
                scales[k] = s;
                // w = (q − 8)·s + z = (q − (8 − z/s))·s.
                zeros[k] = 8f - z / s;
                var dst = b.Slice(k * half, half);
                for (int j = 0; j < g; j++)
                {
                    int q = j < half ? blk[4 + j] & 0x0f : blk[4 + j - half] >> 4;
                    dst[j >> 1] |= (byte)((j & 1) == 0 ? q : q << 4);
                }
            }
        }
    }

    /// <summary>Workbench int8 (one scale per row): the row's scale repeated for every block; codes + 128; a short last block padded with 128 (= 0).</summary>
    private sealed class Int8 : MatMulNBitsLayout
    {
        public static readonly Int8 Instance = new();
        public override int Bits => 8;
        public override int BlockSize(TensorFormat format, int requested) => requested;

        public override void Convert(TensorFormat format, ReadOnlySpan<byte> row, int cols, int block, Span<byte> b, Span<float> scales, Span<float> zeros)
        {
            float s = MemoryMarshal.Read<float>(row);
            var q = MemoryMarshal.Cast<byte, sbyte>(row[sizeof(float)..]);
            for (int j = 0; j < cols; j++) b[j] = (byte)(q[j] + 128);
            b[cols..].Fill(128);
            scales.Fill(s);
        }
    }

    /// <summary>ggml Q4_0: fp16 d and codes j, j+16 in byte j; w = (q − 8)·d, which is MatMulNBits' default zero point.</summary>
    private sealed class Q4_0 : MatMulNBitsLayout
    {
        public static readonly Q4_0 Instance = new();
        public override int Bits => 4;
        public override int BlockSize(TensorFormat format, int requested) => 32;

        public override void Convert(TensorFormat format, ReadOnlySpan<byte> row, int cols, int block, Span<byte> b, Span<float> scales, Span<float> zeros)
        {
            for (int k = 0; k < cols / 32; k++)
            {
                var blk = row.Slice(k * BlockQ4_0.Size, BlockQ4_0.Size);
                scales[k] = (float)MemoryMarshal.Read<Half>(blk);
                var dst = b.Slice(k * 16, 16);
                for (int j = 0; j < 32; j++)
                {
                    int q = j < 16 ? blk[2 + j] & 0x0f : blk[2 + j - 16] >> 4;
                    dst[j >> 1] |= (byte)((j & 1) == 0 ? q : q << 4);
                }
            }
        }
    }

    /// <summary>ggml Q8_0: fp16 d and 32 int8 codes; w = q·d = ((q + 128) − 128)·d.</summary>
    private sealed class Q8_0 : MatMulNBitsLayout
    {
        public static readonly Q8_0 Instance = new();
        public override int Bits => 8;
        public override int BlockSize(TensorFormat format, int requested) => 32;

        public override void Convert(TensorFormat format, ReadOnlySpan<byte> row, int cols, int block, Span<byte> b, Span<float> scales, Span<float> zeros)
        {
            const int size = 34;
            for (int k = 0; k < cols / 32; k++)
            {
                var blk = row.Slice(k * size, size);
                scales[k] = (float)MemoryMarshal.Read<Half>(blk);
                var q = MemoryMarshal.Cast<byte, sbyte>(blk[2..]);
                for (int j = 0; j < 32; j++) b[k * 32 + j] = (byte)(q[j] + 128);
            }
        }
    }
}
