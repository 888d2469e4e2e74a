// OnnxWeights: streams one checkpoint tensor at a time into the initializers a node reads — dense float32
// (transposed for MatMul), MatMulNBits blocks, or an embedding table — in the format the policy chose.
using System.Runtime.InteropServices;
using Compression.Checkpoints;
using Compression.Export.Onnx.Proto;
using Compression.Quantization;

namespace Compression.Export.Onnx;

/// <summary>
/// Reads rows of a stored tensor as the model the workbench would build from it: a tensor already stored in the
/// chosen format is used as it is; otherwise each row is read as float32 and quantized with the chosen format's
/// <see cref="TensorFormat.QuantizeRow"/> (what <c>ModelQuantizer</c> does), so the exported weights equal the
/// in-memory model's. Float formats (f16, bf16) are rounded through the format and written as float32.
/// Only <paramref name="chunkBytes"/> of a tensor is held at a time.
/// </summary>
internal sealed class OnnxWeights(OnnxInitializers initializers, int chunkBytes)
{
    /// <summary>Writes the float32 values of <paramref name="stored"/> (as <paramref name="format"/> stores them) row by row: [rows, cols].</summary>
    public void Rows(string name, StoredTensor stored, TensorFormat format)
    {
        int cols = checked((int)stored.Cols);
        long rows = stored.Rows;
        initializers.Add(name, TensorProto.Types.DataType.Float, [rows, cols], rows * cols * 4, s =>
        {
            int chunk = (int)Math.Clamp(chunkBytes / (4L * cols), 1, rows);
            var buffer = new float[chunk * cols];
            for (long r = 0; r < rows; r += chunk)
            {
                int n = (int)Math.Min(chunk, rows - r);
                FloatRows(stored, format, r, n, buffer);
                s.Write(MemoryMarshal.AsBytes(buffer.AsSpan(0, n * cols)));
            }
        });
    }

    /// <summary>
    /// Writes Wᵀ ([cols, rows]) for MatMul. Transposing needs whole columns, so the output is made in tiles of
    /// output rows, each a pass over the tensor: memory stays at one tile (≤ chunk bytes) for any size of weight.
    /// </summary>
    public void Transposed(string name, StoredTensor stored, TensorFormat format)
    {
        int cols = checked((int)stored.Cols), rows = checked((int)stored.Rows);
        initializers.Add(name, TensorProto.Types.DataType.Float, [cols, rows], 4L * rows * cols, s =>
        {
            int tile = (int)Math.Clamp(chunkBytes / (4L * rows), 1, cols);
            var buffer = new float[(long)tile * rows];
            for (int k0 = 0; k0 < cols; k0 += tile)
            {
                int t = Math.Min(tile, cols - k0);
                Parallel.For(0, rows, () => new float[cols], (n, _, row) =>
                {
                    FloatRows(stored, format, n, 1, row);
                    for (int k = 0; k < t; k++) buffer[(long)k * rows + n] = row[k0 + k];
                    return row;
                }, _ => { });
                s.Write(MemoryMarshal.AsBytes(buffer.AsSpan(0, t * rows)));
            }
        });
    }

    /// <summary>
    /// The MatMulNBits initializers of <paramref name="stored"/> in <paramref name="format"/>: B, scales and (int4) zero points;
    /// with <paramref name="flatten"/> B is [rows, k_blocks·blob], the shape GatherBlockQuantized reads.
    /// </summary>
    public (string B, string Scales, string? Zeros, int Block) NBits(string baseName, StoredTensor stored, TensorFormat format, MatMulNBitsLayout layout,
        int requestedBlock, bool flatten = false)
    {
        int cols = checked((int)stored.Cols), rows = checked((int)stored.Rows);
        int block = layout.BlockSize(format, requestedBlock);
        int kBlocks = (cols + block - 1) / block, blob = block * layout.Bits / 8, bRow = kBlocks * blob;
        var scales = new float[(long)rows * kBlocks];
        var zeros = layout.FloatZeroPoints ? new float[(long)rows * kBlocks] : null;
        string bName = $"{baseName}.qweight", sName = $"{baseName}.scales", zName = $"{baseName}.qzeros";
        long[] bDims = flatten ? [rows, bRow] : [rows, kBlocks, blob]; // GatherBlockQuantized takes the blocks of a row as one axis
        initializers.Add(bName, TensorProto.Types.DataType.Uint8, bDims, (long)rows * bRow, s =>
        {
            int chunk = (int)Math.Clamp(chunkBytes / Math.Max(bRow, format.RowBytes(cols)), 1, rows);
            var b = new byte[(long)chunk * bRow];
            int rowBytes = checked((int)format.RowBytes(cols));
            for (int r0 = 0; r0 < rows; r0 += chunk)
            {
                int n = Math.Min(chunk, rows - r0);
                Array.Clear(b);
                Parallel.For(0, n, () => (new byte[rowBytes], new float[cols]), (i, _, tmp) =>
                {
                    int r = r0 + i;
                    var packed = PackedRow(stored, format, r, tmp.Item1, tmp.Item2);
                    layout.Convert(format, packed, cols, block, b.AsSpan(i * bRow, bRow), scales.AsSpan(r * kBlocks, kBlocks),
                        zeros is null ? default : zeros.AsSpan(r * kBlocks, kBlocks));
                    return tmp;
                }, _ => { });
                s.Write(b, 0, n * bRow);
            }
        });
        initializers.Add(sName, TensorProto.Types.DataType.Float, [rows, kBlocks], scales.AsSpan());
        if (zeros is not null) initializers.Add(zName, TensorProto.Types.DataType.Float, [rows, kBlocks], zeros.AsSpan());
        return (bName, sName, zeros is null ? null : zName, block);
    }

    /// <summary>Row <paramref name="r"/> in <paramref name="format"/>: the stored bytes when already in it, else quantized from float32.</summary>
    private static ReadOnlySpan<byte> PackedRow(StoredTensor stored, TensorFormat format, long r, byte[] packed, float[] floats)
    {
        if (stored.Format == format) return stored.Row(r);
        stored.ReadRows(r, 1, floats);
        format.QuantizeRow(floats, packed);
        return packed;
    }

    /// <summary>Rows [first, first+count) as float32 values of <paramref name="format"/> (round trip through it unless f32 or already stored so).</summary>
    private static void FloatRows(StoredTensor stored, TensorFormat format, long first, int count, Span<float> dst)
    {
        int cols = checked((int)stored.Cols);
        stored.ReadRows(first, count, dst[..(count * cols)]);
        if (format == FormatRegistry.F32 || stored.Format == format) return;
        var packed = new byte[format.RowBytes(cols)];
        for (int i = 0; i < count; i++)
        {
            var row = dst.Slice(i * cols, cols);
            format.QuantizeRow(row, packed);
            format.DequantizeRow(packed, row);
        }
    }
}
