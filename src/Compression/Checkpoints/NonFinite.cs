// NonFinite: counts NaN and ±Inf values in a stored tensor, so a corrupt checkpoint fails on load, not as a NaN metric.
using System.Numerics;
using System.Runtime.InteropServices;
using Compression.Quantization;

namespace Compression.Checkpoints;

/// <summary>
/// Non-finite value detection for every storage format. Float formats are checked on their raw bits (a value is
/// NaN or ±Inf exactly when its exponent bits are all ones), vectorised, a few ms per GB; quantized formats are
/// dequantized row by row (their scales are the only place a non-finite value can live) and the floats checked.
/// </summary>
public static class NonFinite
{
    // Exponent masks: a float is non-finite iff (bits & mask) == mask.
    private const uint F32Mask = 0x7F80_0000;
    private const ushort F16Mask = 0x7C00;
    private const ushort BF16Mask = 0x7F80;
    private const int ChunkBytes = 1 << 22;

    /// <summary>
    /// Throws a <see cref="InvalidDataException"/> when <paramref name="tensor"/> holds NaN or ±Inf values,
    /// unless <paramref name="allow"/> (for studying broken models).
    /// </summary>
    public static void Check(StoredTensor tensor, bool allow = false)
    {
        if (allow) return;
        long count = Count(tensor);
        if (count > 0)
            throw new InvalidDataException(
                $"{tensor.Source.Path}: tensor '{tensor.Name}' holds {count:N0} non-finite values (NaN or ±Inf) among its {tensor.Elements:N0}; " +
                "the checkpoint is corrupt (--allow-nonfinite loads it anyway)");
    }

    /// <summary>Checks every tensor of <paramref name="checkpoint"/> (see <see cref="Check(StoredTensor, bool)"/>).</summary>
    public static void Check(Checkpoint checkpoint, bool allow = false)
    {
        if (allow) return;
        foreach (var t in checkpoint.Tensors.Values) Check(t);
    }

    /// <summary>Number of NaN and ±Inf values in <paramref name="tensor"/>.</summary>
    public static long Count(StoredTensor tensor)
    {
        var f = tensor.Format;
        if (ReferenceEquals(f, FormatRegistry.F32) || ReferenceEquals(f, FormatRegistry.F16) || ReferenceEquals(f, FormatRegistry.BF16))
            return CountRaw(tensor, f);
        return CountDequantized(tensor);
    }

    /// <summary>Scalar reference: dequantizes every row and tests each value with <see cref="float.IsFinite"/>.</summary>
    public static long CountReference(StoredTensor tensor)
    {
        var row = new float[checked((int)tensor.Cols)];
        long count = 0;
        for (long r = 0; r < tensor.Rows; r++)
        {
            tensor.Format.DequantizeRowReference(tensor.Row(r), row);
            foreach (float x in row) if (!float.IsFinite(x)) count++;
        }
        return count;
    }

    // Row order does not matter for a count: the stored bytes are scanned as they lie, in parallel chunks.
    private static unsafe long CountRaw(StoredTensor tensor, TensorFormat f)
    {
        long bytes = tensor.ByteLength;
        if (bytes == 0) return 0;
        tensor.Source.CheckRange(tensor.Offset, bytes, $"tensor '{tensor.Name}'");
        byte* start = tensor.Source.Pointer(tensor.Offset);
        int chunks = checked((int)((bytes + ChunkBytes - 1) / ChunkBytes));
        long total = 0;
        Parallel.For(0, chunks, () => 0L, (c, _, sum) =>
        {
            long first = (long)c * ChunkBytes;
            var span = new ReadOnlySpan<byte>(start + first, (int)Math.Min(ChunkBytes, bytes - first));
            return sum + (ReferenceEquals(f, FormatRegistry.F32)
                ? Count32(MemoryMarshal.Cast<byte, uint>(span))
                : Count16(MemoryMarshal.Cast<byte, ushort>(span), ReferenceEquals(f, FormatRegistry.F16) ? F16Mask : BF16Mask));
        }, sum => Interlocked.Add(ref total, sum));
        return total;
    }

    private static long CountDequantized(StoredTensor tensor)
    {
        int cols = checked((int)tensor.Cols);
        if (cols == 0 || tensor.Rows == 0) return 0;
        int rowsPerChunk = (int)Math.Min(tensor.Rows, Math.Max(1, (ChunkBytes / 4) / cols)); // a small tensor gets a small buffer
        int chunks = checked((int)((tensor.Rows + rowsPerChunk - 1) / rowsPerChunk));
        long total = 0;
        Parallel.For(0, chunks, () => new float[(long)rowsPerChunk * cols], (c, _, buffer) =>
        {
            long first = (long)c * rowsPerChunk;
            int n = (int)Math.Min(rowsPerChunk, tensor.Rows - first);
            var dst = buffer.AsSpan(0, n * cols);
            tensor.ReadRows(first, n, dst);
            Interlocked.Add(ref total, Count32(MemoryMarshal.Cast<float, uint>(dst)));
            return buffer;
        }, _ => { });
        return total;
    }

    /// <summary>float32 bit patterns whose exponent is all ones (NaN, ±Inf).</summary>
    public static long Count32(ReadOnlySpan<uint> bits)
    {
        long count = 0;
        var vectors = Vector.IsHardwareAccelerated ? MemoryMarshal.Cast<uint, Vector<uint>>(bits) : default;
        if (!vectors.IsEmpty)
        {
            var mask = new Vector<uint>(F32Mask);
            // Lane counters of 32 bits are emptied every 2^31 vectors at the latest (never reached by a 4 MB chunk).
            for (int start = 0; start < vectors.Length; start += int.MaxValue / 2)
            {
                var lanes = Vector<uint>.Zero;
                int end = (int)Math.Min(vectors.Length, (long)start + int.MaxValue / 2);
                for (int v = start; v < end; v++)
                    lanes -= Vector.Equals(vectors[v] & mask, mask); // true lanes are all ones, i.e. -1
                for (int l = 0; l < Vector<uint>.Count; l++) count += lanes[l];
            }
        }
        for (int i = vectors.Length * Vector<uint>.Count; i < bits.Length; i++) if ((bits[i] & F32Mask) == F32Mask) count++;
        return count;
    }

    /// <summary>16-bit float patterns (f16 or bf16, by <paramref name="mask"/>) whose exponent is all ones.</summary>
    public static long Count16(ReadOnlySpan<ushort> bits, ushort mask)
    {
        long count = 0;
        var vectors = Vector.IsHardwareAccelerated ? MemoryMarshal.Cast<ushort, Vector<ushort>>(bits) : default;
        if (!vectors.IsEmpty)
        {
            var m = new Vector<ushort>(mask);
            const int flushEvery = ushort.MaxValue; // a 16-bit lane counter must be emptied before it wraps
            for (int start = 0; start < vectors.Length; start += flushEvery)
            {
                var lanes = Vector<ushort>.Zero;
                int end = Math.Min(vectors.Length, start + flushEvery);
                for (int v = start; v < end; v++) lanes -= Vector.Equals(vectors[v] & m, m);
                for (int l = 0; l < Vector<ushort>.Count; l++) count += lanes[l];
            }
        }
        for (int i = vectors.Length * Vector<ushort>.Count; i < bits.Length; i++) if ((bits[i] & mask) == mask) count++;
        return count;
    }
}
