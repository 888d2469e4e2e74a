// OnnxInitializers: the weights of an exported graph — small ones inline, the rest streamed into one external data file.
using System.Runtime.InteropServices;
using Compression.Export.Onnx.Proto;
using Google.Protobuf;

namespace Compression.Export.Onnx;

/// <summary>
/// Collects a graph's initializers. A protobuf message cannot exceed 2 GB, so every tensor above
/// <see cref="InlineLimit"/> bytes goes to <see cref="DataFileName"/> beside the model (ONNX external data:
/// location, offset, length), written as it is produced: an exporter holds one tensor's rows at a time, never the model.
/// Large tensors start on a 64 KiB boundary so a runtime can map them in place (onnx's own save aligns the same way).
/// </summary>
internal sealed class OnnxInitializers : IDisposable
{
    public const string DataFileName = "model.onnx.data";
    public const int InlineLimit = 1024;
    private const int LargeAlignment = 1 << 16, LargeTensor = 1 << 20, SmallAlignment = 64;

    private readonly FileStream _data;
    private readonly List<TensorProto> _tensors = [];

    public OnnxInitializers(string directory) =>
        _data = new FileStream(Path.Combine(directory, DataFileName), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);

    public IReadOnlyList<TensorProto> Tensors => _tensors;
    /// <summary>Bytes written to the external data file so far (padding included).</summary>
    public long DataBytes => _data.Length;

    /// <summary>A tensor whose bytes <paramref name="write"/> streams (exactly <paramref name="byteLength"/> of them).</summary>
    public void Add(string name, TensorProto.Types.DataType type, long[] dims, long byteLength, Action<Stream> write)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        if (byteLength <= InlineLimit)
        {
            using var ms = new MemoryStream();
            write(ms);
            Check(name, byteLength, ms.Length);
            t.RawData = ByteString.CopyFrom(ms.ToArray());
        }
        else
        {
            int align = byteLength >= LargeTensor ? LargeAlignment : SmallAlignment;
            long pad = (align - _data.Position % align) % align;
            for (long i = 0; i < pad; i++) _data.WriteByte(0);
            long offset = _data.Position;
            write(_data);
            Check(name, byteLength, _data.Position - offset);
            t.DataLocation = TensorProto.Types.DataLocation.External;
            t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = DataFileName });
            t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
            t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = byteLength.ToString() });
        }
        _tensors.Add(t);
    }

    /// <summary>A tensor given whole (norm weights, rotary caches, scales, constants).</summary>
    public void Add<T>(string name, TensorProto.Types.DataType type, long[] dims, ReadOnlySpan<T> values) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        Add(name, type, dims, bytes.Length, s => s.Write(bytes));
    }

    /// <summary>Flushes the external data file to disk.</summary>
    public void Complete() => _data.Flush(flushToDisk: true);

    public void Dispose() => _data.Dispose();

    private static void Check(string name, long expected, long written)
    {
        if (expected != written) throw new InvalidOperationException($"initializer {name}: wrote {written} bytes, declared {expected}");
    }
}
