// TensorFormat: what every storage format (float or quantized) states about itself, and its row kernels.
using System.Numerics.Tensors;

namespace Compression.Quantization;

/// <summary>
/// A storage format for a 2-D weight, row-major with blocks along each row (ggml's convention).
/// A format states its block geometry, its scalar reference quantize/dequantize, and its kernels.
/// Register new formats in <see cref="FormatRegistry"/>; nothing else switches over formats.
/// </summary>
public abstract class TensorFormat
{
    /// <summary>Short lower-case name used on the command line and in results ("q8_0", "int4").</summary>
    public abstract string Name { get; }

    /// <summary>GGUF/ggml type id when the format exists in GGUF; null for workbench-only formats.</summary>
    public virtual int? GgmlTypeId => null;

    /// <summary>Weights per block along a row (1 for plain float formats).</summary>
    public abstract int BlockSize { get; }

    /// <summary>Bytes of one block.</summary>
    public abstract int BytesPerBlock { get; }

    /// <summary>Nominal bits per weight of the payload (16 for f16, 4 for q4_0 ...), used to group results.</summary>
    public abstract int NominalBits { get; }

    /// <summary>True for f32/f16/bf16: values are stored as plain floats.</summary>
    public virtual bool IsFloat => false;

    /// <summary>True when the workbench can produce this format (false for read-only formats).</summary>
    public virtual bool CanQuantize => true;

    /// <summary>
    /// The block rule opened into fit + code, for calibrated methods (GPTQ, importance-weighted rounding); null when
    /// the format has none (floats, per-row int8, q6_k) and only round-to-nearest applies.
    /// </summary>
    public virtual Methods.Codecs.BlockCodec? Codec => null;

    /// <summary>
    /// Why <see cref="QuantizationPolicy.LlamaCppDefault"/> cannot reproduce llama-quantize's own choices for this
    /// format (a type it picks that the workbench lacks), or null when it can.
    /// </summary>
    public virtual string? LlamaCppDefaultGap => null;

    /// <summary>
    /// Block length over which the decode kernel (<see cref="Gemv"/>) quantizes the activations to 8 bits: 32 (Q8_0, the
    /// default) or, for formats llama.cpp pairs with Q8_K, 256. Float kernels do not quantize activations.
    /// </summary>
    public virtual int ActivationBlock => 32;

    /// <summary>Whether the prefill kernel (<see cref="Gemm"/>) quantizes the activations (per <see cref="ActivationBlock"/>),
    /// as llama.cpp does, under <see cref="Kernels.PrefillActivations.Mode.Q8"/>; otherwise (and by default) it multiplies
    /// dequantized weights with the float activations.</summary>
    public virtual bool GemmQuantizesActivations => false;

    /// <summary>One-line description for tables and help text.</summary>
    public abstract string Description { get; }

    /// <summary>Bytes of one row of <paramref name="cols"/> weights.</summary>
    public virtual long RowBytes(long cols)
    {
        if (cols % BlockSize != 0)
            throw new ArgumentException($"{Name}: row length {cols} is not a multiple of the block size {BlockSize}");
        return cols / BlockSize * BytesPerBlock;
    }

    /// <summary>Whether a row of <paramref name="cols"/> weights can be stored in this format.</summary>
    public virtual bool Supports(long cols) => cols % BlockSize == 0;

    /// <summary>Bytes of a rows × cols matrix.</summary>
    public long ByteCount(long rows, long cols) => rows * RowBytes(cols);

    /// <summary>Bits per weight for rows of <paramref name="cols"/> weights, scales included.</summary>
    public double BitsPerWeight(long cols) => 8.0 * RowBytes(cols) / cols;

    /// <summary>Scalar reference: quantize one row of <c>src.Length</c> weights into <c>RowBytes</c> bytes.</summary>
    public abstract void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst);

    /// <summary>Scalar reference: dequantize one row.</summary>
    public abstract void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst);

    /// <summary>Quantize one row (fast path; defaults to the reference, which must give identical bytes).</summary>
    public virtual void QuantizeRow(ReadOnlySpan<float> src, Span<byte> dst) => QuantizeRowReference(src, dst);

    /// <summary>Dequantize one row (fast path; defaults to the reference).</summary>
    public virtual void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst) => DequantizeRowReference(src, dst);

    /// <summary>
    /// Dot product of one packed row with float activations — the decode kernel's inner loop.
    /// The default dequantizes the row; formats override it with a kernel that reads packed bytes.
    /// </summary>
    public virtual float DotRow(ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        float[] tmp = System.Buffers.ArrayPool<float>.Shared.Rent(x.Length);
        try
        {
            var w = tmp.AsSpan(0, x.Length);
            DequantizeRow(row, w);
            return TensorPrimitives.Dot(w, x);
        }
        finally { System.Buffers.ArrayPool<float>.Shared.Return(tmp); }
    }

    /// <summary>
    /// y = W·x for a packed rows × cols matrix W (decode: one activation vector). Kernels read the
    /// packed bytes directly and split rows across threads; formats override this with their SIMD
    /// kernel (which may quantize x on the fly, as llama.cpp does). The default runs <see cref="DotRow"/>.
    /// </summary>
    public virtual void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        long rb = RowBytes(cols);
        for (int r = 0; r < rows; r++) y[r] = DotRow(packed.Slice((int)(r * rb), (int)rb), x);
    }

    /// <summary>
    /// Bytes of this format's decode layout of a rows × cols matrix (<see cref="Kernels.DecodeLayout"/>): its packed
    /// bytes rearranged the way the format's GEMV kernel reads them. 0 when the format has none.
    /// </summary>
    public virtual long DecodeLayoutBytes(int rows, int cols) => 0;

    /// <summary>Whether the format defines a decode layout at all (<see cref="DecodeLayoutBytes"/>).</summary>
    public virtual bool HasDecodeLayout => false;

    /// <summary>Writes the decode layout of the rows × cols matrix at <paramref name="packed"/> to <paramref name="layout"/>
    /// (<see cref="DecodeLayoutBytes"/> bytes).</summary>
    public virtual unsafe void WriteDecodeLayout(byte* packed, int rows, int cols, byte* layout) =>
        throw new NotSupportedException($"{Name} has no decode layout");

    /// <summary><see cref="Gemv"/> reading what it can from <paramref name="layout"/> (written by <see cref="WriteDecodeLayout"/>
    /// from <paramref name="packed"/>): the same bits as <see cref="Gemv"/> (q1_0), or the scalar reference's (q4_0).</summary>
    public virtual unsafe void Gemv(ReadOnlySpan<byte> packed, byte* layout, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Gemv(packed, rows, cols, x, y);

    /// <summary>
    /// Y = X·Wᵀ for n activation rows X (n × cols) and packed W (rows × cols), giving Y (n × rows) —
    /// the prefill path. The default dequantizes W a tile of rows at a time and multiplies in float.
    /// </summary>
    public virtual void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y)
    {
        long rb = RowBytes(cols);
        float[] w = System.Buffers.ArrayPool<float>.Shared.Rent(cols);
        try
        {
            var row = w.AsSpan(0, cols);
            for (int r = 0; r < rows; r++)
            {
                DequantizeRow(packed.Slice((int)(r * rb), (int)rb), row);
                for (int i = 0; i < n; i++) y[i * rows + r] = TensorPrimitives.Dot(row, x.Slice(i * cols, cols));
            }
        }
        finally { System.Buffers.ArrayPool<float>.Shared.Return(w); }
    }

    /// <summary>Quantizes a whole rows × cols matrix (row-major floats) into packed bytes.</summary>
    public void Quantize(ReadOnlySpan<float> src, int rows, int cols, Span<byte> dst)
    {
        long rb = RowBytes(cols);
        for (int r = 0; r < rows; r++)
            QuantizeRow(src.Slice(r * cols, cols), dst.Slice((int)(r * rb), (int)rb));
    }

    public override string ToString() => Name;
}
