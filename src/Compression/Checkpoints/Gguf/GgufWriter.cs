// GgufWriter: writes a GGUF v3 file — metadata and tensor table up front, then tensor data streamed in
// declaration order, each tensor aligned — to a temporary file renamed into place only when complete.
using System.Buffers.Binary;
using System.Text;
using Compression.IO;
using Compression.Quantization;

namespace Compression.Checkpoints.Gguf;

/// <summary>
/// Streaming GGUF writer. Add metadata (kept in insertion order) and declare every tensor first; then call
/// <see cref="WriteTensorData"/> with each tensor's bytes in declaration order (any number of chunks per
/// tensor; padding is added when a tensor is complete), and <see cref="Complete"/>. Until then the output
/// is a temporary file beside <see cref="Path"/>; disposing without completing deletes it.
/// </summary>
public sealed class GgufWriter : IDisposable
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<(string Name, long[] Dims, TensorFormat Format, long Offset, long Bytes)> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);
    private readonly string _tempPath;
    private readonly string _userPath;
    private FileStream? _out;
    private long _dataBytes;       // data section bytes declared so far (including padding)
    private int _current;          // index of the tensor being written
    private long _currentWritten;  // bytes of it written so far
    private bool _completed;

    /// <summary>Final path of the file.</summary>
    public string Path { get; }
    public uint Alignment { get; }
    /// <summary>Metadata in the order it will be written.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata;

    /// <param name="path">Where the finished file goes (replacing any file there).</param>
    /// <param name="alignment">Data alignment; when not 32 a <c>general.alignment</c> key is added automatically unless given.</param>
    public GgufWriter(string path, uint alignment = GgufFile.DefaultAlignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw new ArgumentException($"alignment {alignment} is not a power of two");
        _userPath = path;
        Path = OutputFile.Prepare(path);
        Alignment = alignment;
        _tempPath = OutputFile.TempFor(Path);
    }

    // ---- metadata ----

    /// <summary>Adds a metadata entry; keys must be unique.</summary>
    public void Add(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (_out is not null) throw new InvalidOperationException("metadata must be added before tensor data is written");
        if (!_keys.Add(key)) throw new ArgumentException($"metadata key '{key}' was already added");
        if (key == GgufFile.AlignmentKey && !(value.Value is uint a && a == Alignment))
            throw new ArgumentException($"{GgufFile.AlignmentKey} must be the u32 {Alignment} this writer was created with");
        _metadata.Add(new(key, value));
    }

    public void AddString(string key, string value) => Add(key, GgufValue.Of(value));
    public void AddUInt32(string key, uint value) => Add(key, GgufValue.Of(value));
    public void AddInt32(string key, int value) => Add(key, GgufValue.Of(value));
    public void AddFloat32(string key, float value) => Add(key, GgufValue.Of(value));
    public void AddBool(string key, bool value) => Add(key, GgufValue.Of(value));
    public void AddStringArray(string key, IEnumerable<string> values) => Add(key, GgufValue.Of(values.ToArray()));
    public void AddInt32Array(string key, IEnumerable<int> values) => Add(key, GgufValue.Of(values.ToArray()));
    public void AddFloat32Array(string key, IEnumerable<float> values) => Add(key, GgufValue.Of(values.ToArray()));

    // ---- tensors ----

    /// <summary>
    /// Declares a tensor. <paramref name="dimensions"/> are fastest-first (GGUF order: row length first);
    /// the format must have a GGUF type id and hold rows of dimensions[0] elements.
    /// </summary>
    public void AddTensor(string name, IReadOnlyList<long> dimensions, TensorFormat format)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_out is not null) throw new InvalidOperationException("tensors must be declared before tensor data is written");
        if (dimensions.Count is 0 or > 4) throw new ArgumentException($"{name}: {dimensions.Count} dimensions (1 to 4 allowed)");
        if (dimensions.Any(d => d < 0)) throw new ArgumentException($"{name}: negative dimension");
        if (format.GgmlTypeId is null) throw new ArgumentException($"{name}: format {format.Name} has no GGUF type and cannot be written to GGUF");
        if (!format.Supports(dimensions[0]))
            throw new ArgumentException($"{name}: rows of {dimensions[0]} elements do not fit format {format.Name} (block size {format.BlockSize})");
        if (!_tensorNames.Add(name)) throw new ArgumentException($"tensor '{name}' was already declared");
        long bytes = checked(dimensions.Skip(1).Aggregate(1L, (a, b) => checked(a * b)) * format.RowBytes(dimensions[0]));
        _tensors.Add((name, dimensions.ToArray(), format, _dataBytes, bytes));
        _dataBytes = checked(GgufFile.AlignUp(_dataBytes + bytes, Alignment));
    }

    /// <summary>Bytes the data of tensor <paramref name="index"/> must total.</summary>
    public long TensorByteLength(int index) => _tensors[index].Bytes;

    public int TensorCount => _tensors.Count;

    /// <summary>
    /// Appends bytes to the current tensor (the first not yet complete, in declaration order). The first call
    /// writes the header. A chunk must not run past the end of the current tensor.
    /// </summary>
    public void WriteTensorData(ReadOnlySpan<byte> data)
    {
        EnsureHeader();
        try { Append(data); }
        catch (Exception e) when (OutputFile.IsWriteFailure(e)) { throw Fail(e); }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0 || (_current < _tensors.Count && _tensors[_current].Bytes == 0))
        {
            if (_current >= _tensors.Count) throw new InvalidOperationException("more tensor data than the declared tensors hold");
            var t = _tensors[_current];
            long room = t.Bytes - _currentWritten;
            if (data.Length > room)
                throw new InvalidOperationException($"{t.Name}: {data.Length} bytes given but only {room} remain of its {t.Bytes}");
            _out!.Write(data);
            _currentWritten += data.Length;
            data = default;
            if (_currentWritten == t.Bytes) FinishTensor();
        }
    }

    /// <summary>Checks that every tensor was written, flushes, and moves the file to <see cref="Path"/>.</summary>
    public void Complete()
    {
        EnsureHeader();
        while (_current < _tensors.Count && _tensors[_current].Bytes == 0) FinishTensor();
        if (_current < _tensors.Count)
            throw new InvalidOperationException($"tensor '{_tensors[_current].Name}' has {_currentWritten} of its {_tensors[_current].Bytes} bytes; the file is incomplete");
        try
        {
            _out!.Flush(flushToDisk: true);
            _out.Dispose();
            _out = null;
            File.Move(_tempPath, Path, overwrite: true);
        }
        catch (Exception e) when (OutputFile.IsWriteFailure(e)) { throw Fail(e); }
        _completed = true;
    }

    // Disk full, read-only, ...: drop the temporary and report the path the caller gave.
    private IOException Fail(Exception e)
    {
        try { _out?.Dispose(); } catch (Exception d) when (OutputFile.IsWriteFailure(d)) { }
        _out = null;
        OutputFile.TryDelete(_tempPath);
        return OutputFile.Failure(_userPath, e, _tempPath);
    }

    /// <summary>Discards the temporary file unless <see cref="Complete"/> succeeded.</summary>
    public void Dispose()
    {
        try { _out?.Dispose(); } catch (Exception e) when (OutputFile.IsWriteFailure(e)) { } // a full disk fails the final flush too
        _out = null;
        if (!_completed) OutputFile.TryDelete(_tempPath);
    }

    private void FinishTensor()
    {
        long end = _tensors[_current].Offset + _tensors[_current].Bytes;
        Pad(GgufFile.AlignUp(end, Alignment) - end);
        _current++;
        _currentWritten = 0;
    }

    private void Pad(long n)
    {
        Span<byte> zeros = stackalloc byte[64];
        zeros.Clear();
        while (n > 0) { int k = (int)Math.Min(n, zeros.Length); _out!.Write(zeros[..k]); n -= k; }
    }

    private void EnsureHeader()
    {
        if (_completed) throw new InvalidOperationException("the file is already complete");
        if (_out is not null) return;
        if (Alignment != GgufFile.DefaultAlignment && !_keys.Contains(GgufFile.AlignmentKey))
            Add(GgufFile.AlignmentKey, GgufValue.Of(Alignment));
        try { WriteHeader(); }
        catch (Exception e) when (OutputFile.IsWriteFailure(e)) { throw Fail(e); }
    }

    private void WriteHeader()
    {
        OutputFile.EnsureFolder(_userPath, System.IO.Path.GetDirectoryName(Path)!);
        _out = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var header = new HeaderWriter(_out);
        header.Bytes("GGUF"u8);
        header.U32(3);
        header.U64((ulong)_tensors.Count);
        header.U64((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            header.String(key);
            header.U32((uint)value.Type);
            header.Value(value);
        }
        foreach (var t in _tensors)
        {
            header.String(t.Name);
            header.U32((uint)t.Dims.Length);
            foreach (long d in t.Dims) header.U64((ulong)d);
            header.U32((uint)t.Format.GgmlTypeId!.Value);
            header.U64((ulong)t.Offset);
        }
        Pad(GgufFile.AlignUp(header.Position, Alignment) - header.Position);
    }

    /// <summary>Little-endian encoder of the header fields, counting bytes for the alignment padding.</summary>
    private sealed class HeaderWriter(Stream s)
    {
        public long Position { get; private set; }
        private readonly byte[] _buf = new byte[8];

        public void Bytes(ReadOnlySpan<byte> b) { s.Write(b); Position += b.Length; }
        public void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(_buf, v); Bytes(_buf.AsSpan(0, 4)); }
        public void U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(_buf, v); Bytes(_buf.AsSpan(0, 8)); }
        public void String(string v) { var b = Encoding.UTF8.GetBytes(v); U64((ulong)b.Length); Bytes(b); }

        public void Value(GgufValue v)
        {
            if (v.Type == GgufValueType.Array)
            {
                var items = (Array)v.Value;
                U32((uint)v.ElementType!.Value);
                U64((ulong)items.Length);
                foreach (var item in items)
                {
                    if (item is GgufValue nested) Value(nested);
                    else Scalar(v.ElementType.Value, item!);
                }
                return;
            }
            Scalar(v.Type, v.Value);
        }

        private void Scalar(GgufValueType t, object o)
        {
            Span<byte> b = _buf;
            switch (o)
            {
                case string str: String(str); return;
                case byte x: b[0] = x; Bytes(b[..1]); return;
                case sbyte x: b[0] = (byte)x; Bytes(b[..1]); return;
                case bool x: b[0] = x ? (byte)1 : (byte)0; Bytes(b[..1]); return;
                case ushort x: BinaryPrimitives.WriteUInt16LittleEndian(b, x); Bytes(b[..2]); return;
                case short x: BinaryPrimitives.WriteInt16LittleEndian(b, x); Bytes(b[..2]); return;
                case uint x: U32(x); return;
                case int x: BinaryPrimitives.WriteInt32LittleEndian(b, x); Bytes(b[..4]); return;
                case float x: BinaryPrimitives.WriteSingleLittleEndian(b, x); Bytes(b[..4]); return;
                case ulong x: U64(x); return;
                case long x: BinaryPrimitives.WriteInt64LittleEndian(b, x); Bytes(b[..8]); return;
                case double x: BinaryPrimitives.WriteDoubleLittleEndian(b, x); Bytes(b[..8]); return;
                default: throw new ArgumentException($"value of type {o.GetType().Name} cannot be written as GGUF {t}");
            }
        }
    }
}
