// QuantizationError: per-tensor relative error ‖W − deq(q(W))‖/‖W‖ of a checkpoint's linear weights for a format.
using Compression.Checkpoints;
using Compression.Model;

namespace Compression.Quantization;

/// <summary>
/// How much a format moves each linear weight of a checkpoint, measured by streaming the memory-mapped tensors a
/// chunk of rows at a time (never the whole model in memory). Rows are quantized in parallel; per-row sums are
/// added in row order, so the result does not depend on thread scheduling.
/// </summary>
public static class QuantizationError
{
    /// <summary>One record per linear weight of every block (q, k, v, o, gate, up, down), in layer order.</summary>
    public static IReadOnlyList<TensorError> Measure(Checkpoint checkpoint, TensorFormat format,
        IProgress<(int Done, int Total, string Name)>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!format.CanQuantize) throw new ArgumentException($"{format.Name} is read-only: the workbench cannot quantize to it");
        var specs = LlamaTensorLayout.Expected(checkpoint.Config).Where(s => s.IsLinear).ToList();
        var errors = new List<TensorError>(specs.Count);
        foreach (var spec in specs)
        {
            ct.ThrowIfCancellationRequested();
            errors.Add(new TensorError(format.Name, spec.Layer, Projection(spec.Role), RelativeError(checkpoint[spec.Name], format, ct: ct)));
            progress?.Report((errors.Count, specs.Count, spec.Name));
        }
        return errors;
    }

    /// <summary>
    /// ‖W − deq(q(W))‖_F / ‖W‖_F for one stored tensor (read as float32, whatever its stored format), or 0 for
    /// an all-zero tensor. At most <paramref name="chunkBytes"/> of float32 rows are held at once.
    /// </summary>
    public static double RelativeError(StoredTensor tensor, TensorFormat format, int chunkBytes = 8 << 20, CancellationToken ct = default)
    {
        int cols = checked((int)tensor.Cols);
        long rows = tensor.Rows;
        if (!format.Supports(cols))
            throw new ArgumentException($"{tensor.Name}: rows of {cols} weights do not fit format {format.Name} (block size {format.BlockSize})");
        int chunkRows = (int)Math.Clamp(chunkBytes / (4L * cols), 1, rows);
        int rowBytes = checked((int)format.RowBytes(cols));
        var floats = new float[checked(chunkRows * cols)];
        var diff = new double[chunkRows];
        var norm = new double[chunkRows];
        double diffSum = 0, normSum = 0;
        for (long first = 0; first < rows; first += chunkRows)
        {
            ct.ThrowIfCancellationRequested();
            int n = (int)Math.Min(chunkRows, rows - first);
            tensor.ReadRows(first, n, floats.AsSpan(0, n * cols));
            Parallel.For(0, n, () => (Packed: new byte[rowBytes], Back: new float[cols]), (k, _, buf) =>
            {
                var row = floats.AsSpan(k * cols, cols);
                format.QuantizeRow(row, buf.Packed);
                format.DequantizeRow(buf.Packed, buf.Back);
                double d = 0, w = 0;
                for (int j = 0; j < cols; j++)
                {
                    double e = (double)row[j] - buf.Back[j];
                    d += e * e;
                    w += (double)row[j] * row[j];
                }
                (diff[k], norm[k]) = (d, w);
                return buf;
            }, _ => { });
            for (int k = 0; k < n; k++) { diffSum += diff[k]; normSum += norm[k]; }
        }
        return normSum == 0 ? 0 : Math.Sqrt(diffSum / normSum);
    }

    /// <summary>Short projection name used in reports: q, k, v, o, gate, up, down.</summary>
    public static string Projection(TensorRole role) => role switch
    {
        TensorRole.Query => "q",
        TensorRole.Key => "k",
        TensorRole.Value => "v",
        TensorRole.Output => "o",
        TensorRole.Gate => "gate",
        TensorRole.Up => "up",
        TensorRole.Down => "down",
        _ => throw new ArgumentException($"{role} is not a linear projection"),
    };
}

/// <summary>Relative quantization error ‖W − Ŵ‖/‖W‖ of one projection of one layer in one format.</summary>
public sealed record TensorError(string Format, int Layer, string Projection, double RelativeError);
