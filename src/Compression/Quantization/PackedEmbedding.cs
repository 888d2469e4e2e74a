// PackedEmbedding: token embedding kept packed; a lookup dequantizes only the requested rows.
using Compression.Checkpoints;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Quantization;

/// <summary>(Vocab, Hidden) embedding in a packed format; <see cref="AsTiedHead"/> shares the same memory.</summary>
public sealed unsafe class PackedEmbedding : TokenEmbedding
{
    private readonly PackedWeight _weight;
    private bool _disposed;

    /// <summary>Takes over the (only) reference to <paramref name="weight"/>.</summary>
    internal PackedEmbedding(PackedWeight weight) : base(nameof(PackedEmbedding)) => _weight = weight;

    /// <summary>Quantizes a float (Vocab, Hidden) matrix.</summary>
    public PackedEmbedding(Tensor weight, TensorFormat format) : this(PackedWeight.Quantize(weight, format)) { }

    public static PackedEmbedding FromPacked(ReadOnlySpan<byte> packed, TensorFormat format, int vocab, int hidden) =>
        new(PackedWeight.FromBytes(packed, format, vocab, hidden));

    public static PackedEmbedding FromStored(StoredTensor tensor, bool map = true) => new(PackedWeight.FromStored(tensor, map));

    /// <summary>A second layer over the same packed memory (tied heads, copies that keep a layer as it is); takes a reference.</summary>
    internal static PackedEmbedding Share(PackedWeight weight)
    {
        weight.AddRef();
        return new PackedEmbedding(weight);
    }

    /// <summary>The packed matrix.</summary>
    public PackedWeight Weight => _weight;

    public TensorFormat Format => _weight.Format;
    public override string FormatName => _weight.Format.Name;
    public override long WeightBytes => _weight.ByteLength;
    public int Vocab => _weight.Rows;
    public int Hidden => _weight.Cols;

    /// <param name="ids">(B, T) int64 token ids</param>
    /// <returns>(B, T, Hidden) float32</returns>
    public override Tensor forward(Tensor ids)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ids.dim() != 2) throw new ArgumentException($"PackedEmbedding: ids must be (B, T), got [{string.Join(", ", ids.shape)}]");
        using var scope = NewDisposeScope();
        var idc = ids.to(ScalarType.Int64, CPU).contiguous();
        var y = empty([ids.shape[0], ids.shape[1], Hidden], ScalarType.Float32);
        long* pid = (long*)TensorPointer.Of(idc);
        float* py = (float*)TensorPointer.Of(y);
        long n = idc.numel();
        for (long i = 0; i < n; i++)
        {
            long id = pid[i];
            if ((ulong)id >= (ulong)Vocab) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} outside the vocabulary [0, {Vocab})");
            Format.DequantizeRow(_weight.Row((int)id), new Span<float>(py + i * Hidden, Hidden));
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>An LM head reading the same packed matrix (no second copy).</summary>
    public override LinearLayer AsTiedHead() => PackedLinear.Share(_weight);

    protected override void Dispose(bool disposing)
    {
        if (!_disposed)
        {
            _disposed = true;
            _weight.Release();
        }
        base.Dispose(disposing);
    }
}
