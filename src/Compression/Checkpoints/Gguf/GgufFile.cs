// GgufFile: a memory-mapped, fully bounds-checked reader of GGUF v2/v3 files (header, metadata, tensor table).
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Compression.Quantization;

namespace Compression.Checkpoints.Gguf;

/// <summary>
/// A GGUF file opened read-only. The header, metadata and tensor table are parsed and checked on open;
/// tensor data stays in the memory map. Every problem is an <see cref="InvalidDataException"/> naming
/// the file, and counts and lengths are checked against the bytes left before anything is allocated.
/// </summary>
public sealed class GgufFile : IDisposable
{
    /// <summary>Alignment of tensor data when <c>general.alignment</c> is absent.</summary>
    public const uint DefaultAlignment = 32;
    public const string AlignmentKey = "general.alignment";
    private const int MaxDims = 4;          // GGML_MAX_DIMS
    private const int MaxArrayNesting = 8;  // arrays of arrays are legal but never deep; this bounds recursion
    // Smallest possible encodings, used to reject counts the remaining bytes cannot hold.
    private const int MinKvBytes = 8 + 1 + 4 + 1;                // key length, 1-byte key, type, 1-byte value
    private const int MinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8; // name length, 1-byte name, n_dims, one dim, type, offset

    private readonly MappedFile _file;
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly Dictionary<string, GgufValue> _byKey = new(StringComparer.Ordinal);
    private readonly List<GgufTensorInfo> _tensors = [];
    private readonly Dictionary<string, GgufTensorInfo> _tensorByName = new(StringComparer.Ordinal);
    private long _pos;

    public string Path => _file.Path;
    public long Length => _file.Length;
    /// <summary>The file's memory map (tensor data is read from it in place).</summary>
    public MappedFile Mapped => _file;
    public uint Version { get; }
    public uint Alignment { get; }
    /// <summary>Absolute offset of the data section (end of the tensor table, aligned).</summary>
    public long DataOffset { get; }
    /// <summary>Metadata key/value pairs in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata;
    /// <summary>Tensor table in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    /// <summary>
    /// Tensors of ggml types the workbench cannot compute with (k-quants, i-quants …), listed only by a file opened with
    /// <see cref="OpenMetadata"/>: their sizes come from <see cref="GgmlTypes.BlockLayout"/>. Empty otherwise.
    /// </summary>
    public IReadOnlyList<GgufForeignTensor> ForeignTensors => _foreign;
    private readonly List<GgufForeignTensor> _foreign = [];
    private readonly bool _allowForeign;

    private GgufFile(string path, bool allowForeign = false)
    {
        _allowForeign = allowForeign;
        _file = new MappedFile(path);
        try
        {
            if (_file.Length < 4 || !Bytes(0, 4).SequenceEqual("GGUF"u8))
                throw Bad("not a GGUF file (the magic bytes \"GGUF\" are missing)");
            _pos = 4;
            Version = U32("version");
            if (Version is not (2 or 3))
                throw Bad(Version is 1 ? "GGUF version 1 is not supported (only versions 2 and 3)"
                    : BinaryPrimitives.ReverseEndianness(Version) is 2 or 3 ? "big-endian GGUF files are not supported"
                    : $"unsupported GGUF version {Version} (only versions 2 and 3)");
            ulong tensorCount = U64("tensor count"), kvCount = U64("metadata count");
            // After the counts, every kv needs >= MinKvBytes and every tensor info >= MinTensorInfoBytes.
            if (kvCount > (ulong)(Remaining / MinKvBytes))
                throw Bad($"metadata count {kvCount} is impossible: the {Remaining} bytes left could hold at most {Remaining / MinKvBytes}");
            if (tensorCount > (ulong)(Remaining / MinTensorInfoBytes))
                throw Bad($"tensor count {tensorCount} is impossible: the {Remaining} bytes left could hold at most {Remaining / MinTensorInfoBytes}");

            for (ulong i = 0; i < kvCount; i++) ReadKeyValue(i);

            Alignment = DefaultAlignment;
            if (_byKey.TryGetValue(AlignmentKey, out var a))
            {
                if (a.Value is not uint al || al == 0 || (al & (al - 1)) != 0)
                    throw Bad($"{AlignmentKey} must be a u32 power of two, found {a.TypeName} {a}");
                Alignment = al;
            }

            var infos = new List<(string Name, long[] Dims, uint Type, ulong Offset)>();
            for (ulong i = 0; i < tensorCount; i++) infos.Add(ReadTensorInfo(i));
            DataOffset = AlignUp(_pos, Alignment);
            foreach (var (name, dims, type, rel) in infos) AddTensor(name, dims, type, rel);
            CheckTiling();
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    public static GgufFile Open(string path) => new(path);

    /// <summary>
    /// Opens <paramref name="path"/> for its metadata and tensor sizes even when some tensors are in ggml types the
    /// workbench cannot compute with (a Q4_K_M file from llama.cpp's quantizer): those go to <see cref="ForeignTensors"/>.
    /// Every other check is the same as <see cref="Open"/>'s.
    /// </summary>
    public static GgufFile OpenMetadata(string path) => new(path, allowForeign: true);

    // ---- metadata accessors ----

    public bool ContainsKey(string key) => _byKey.ContainsKey(key);

    public bool TryGetValue(string key, out GgufValue value) => _byKey.TryGetValue(key, out value!);

    /// <summary>The value of <paramref name="key"/>; throws naming the file when it is missing.</summary>
    public GgufValue GetValue(string key) =>
        _byKey.TryGetValue(key, out var v) ? v : throw Bad($"metadata key '{key}' is missing");

    public string GetString(string key) => TryGetString(key) ?? throw Bad($"metadata key '{key}' is missing");

    /// <summary>The string at <paramref name="key"/>, null when absent; throws when present with another type.</summary>
    public string? TryGetString(string key) => TryGet(key, "a string", v => v.Value as string);

    public uint GetUInt32(string key) => TryGetUInt32(key) ?? throw Bad($"metadata key '{key}' is missing");

    /// <summary>Any integer type whose value fits in a u32 (writers disagree on u32 vs i32 for counts and ids).</summary>
    public uint? TryGetUInt32(string key) =>
        TryGet(key, "an integer in [0, 4294967295]", v => v.AsInt64() is long l and >= 0 and <= uint.MaxValue ? (uint)l : (uint?)null);

    public float GetFloat32(string key) => TryGetFloat32(key) ?? throw Bad($"metadata key '{key}' is missing");

    /// <summary>An f32 (or f64, narrowed) value.</summary>
    public float? TryGetFloat32(string key) =>
        TryGet(key, "a float", v => v.Value switch { float f => f, double d => (float)d, _ => (float?)null });

    public bool GetBool(string key) => TryGetBool(key) ?? throw Bad($"metadata key '{key}' is missing");

    public bool? TryGetBool(string key) => TryGet(key, "a bool", v => v.Value is bool b ? b : (bool?)null);

    public T[] GetArray<T>(string key) => TryGetArray<T>(key) ?? throw Bad($"metadata key '{key}' is missing");

    /// <summary>An array whose elements are <typeparamref name="T"/> (string, int, float, ...), null when absent.</summary>
    public T[]? TryGetArray<T>(string key) => TryGet(key, $"an array of {typeof(T).Name}", v => v.Value as T[]);

    public string[] GetStringArray(string key) => GetArray<string>(key);

    private T? TryGet<T>(string key, string expected, Func<GgufValue, T?> convert)
    {
        if (!_byKey.TryGetValue(key, out var v)) return default;
        return convert(v) ?? throw Bad($"metadata key '{key}' should be {expected} but is {v.TypeName} {v}");
    }

    // ---- tensors ----

    public GgufTensorInfo? FindTensor(string name) => _tensorByName.GetValueOrDefault(name);

    public void Dispose() => _file.Dispose();

    // ---- parsing ----

    private long Remaining => _file.Length - _pos;

    private InvalidDataException Bad(string problem) => new($"{_file.Path}: {Printable(problem)}");

    // A corrupt length makes a key or name swallow binary bytes; keep the message one readable line of bounded length.
    private static string Printable(string s)
    {
        var sb = new StringBuilder(Math.Min(s.Length, 600));
        foreach (char c in s) sb.Append(char.IsControl(c) ? '?' : c);
        return sb.Length <= 600 ? sb.ToString() : $"{sb.ToString(0, 300)} … {sb.ToString(sb.Length - 200, 200)}";
    }

    private ReadOnlySpan<byte> Bytes(long offset, int length) => _file.Span(offset, length);

    private ReadOnlySpan<byte> Take(int length, string what)
    {
        if (length > Remaining)
            throw Bad($"{what} at byte {_pos} needs {length} bytes but only {Math.Max(0, Remaining)} remain (truncated file)");
        var span = Bytes(_pos, length);
        _pos += length;
        return span;
    }

    private uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    private ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    private string Str(string what)
    {
        long at = _pos;
        ulong n = U64($"length of {what}");
        if (n > (ulong)Remaining)
            throw Bad($"{what} at byte {at} claims {n} bytes but only {Remaining} remain (corrupt length or truncated file)");
        if (n > int.MaxValue) throw Bad($"{what} at byte {at} is {n} bytes long, more than a string can hold");
        return Encoding.UTF8.GetString(Take((int)n, what));
    }

    private void ReadKeyValue(ulong index)
    {
        string key = Str($"key of metadata entry {index}");
        if (key.Length == 0) throw Bad($"metadata entry {index} has an empty key");
        if (_byKey.ContainsKey(key)) throw Bad($"metadata key '{key}' appears twice");
        uint type = U32($"type of metadata '{key}'");
        var value = ReadValue(type, key, 0);
        _metadata.Add(new(key, value));
        _byKey.Add(key, value);
    }

    private GgufValue ReadValue(uint type, string key, int depth)
    {
        if (type > (uint)GgufValueType.Float64) throw Bad($"metadata '{key}' has unknown value type {type}");
        var t = (GgufValueType)type;
        if (t == GgufValueType.Array) return ReadArray(key, depth);
        return t switch
        {
            GgufValueType.String => GgufValue.Of(Str($"value of metadata '{key}'")),
            _ => Scalar(t, Take(GgufValue.FixedSize(t), $"value of metadata '{key}'")),
        };
    }

    private static GgufValue Scalar(GgufValueType t, ReadOnlySpan<byte> b) => t switch
    {
        GgufValueType.UInt8 => GgufValue.Of(b[0]),
        GgufValueType.Int8 => GgufValue.Of((sbyte)b[0]),
        GgufValueType.Bool => GgufValue.Of(b[0] != 0),
        GgufValueType.UInt16 => GgufValue.Of(BinaryPrimitives.ReadUInt16LittleEndian(b)),
        GgufValueType.Int16 => GgufValue.Of(BinaryPrimitives.ReadInt16LittleEndian(b)),
        GgufValueType.UInt32 => GgufValue.Of(BinaryPrimitives.ReadUInt32LittleEndian(b)),
        GgufValueType.Int32 => GgufValue.Of(BinaryPrimitives.ReadInt32LittleEndian(b)),
        GgufValueType.Float32 => GgufValue.Of(BinaryPrimitives.ReadSingleLittleEndian(b)),
        GgufValueType.UInt64 => GgufValue.Of(BinaryPrimitives.ReadUInt64LittleEndian(b)),
        GgufValueType.Int64 => GgufValue.Of(BinaryPrimitives.ReadInt64LittleEndian(b)),
        GgufValueType.Float64 => GgufValue.Of(BinaryPrimitives.ReadDoubleLittleEndian(b)),
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    private GgufValue ReadArray(string key, int depth)
    {
        if (depth >= MaxArrayNesting) throw Bad($"metadata '{key}' nests arrays more than {MaxArrayNesting} deep");
        uint et = U32($"element type of metadata '{key}'");
        if (et > (uint)GgufValueType.Float64) throw Bad($"metadata '{key}' is an array of unknown value type {et}");
        var elementType = (GgufValueType)et;
        long at = _pos;
        ulong count = U64($"length of array '{key}'");
        // Strings need at least their 8-byte length, nested arrays their 12-byte header.
        int minElement = elementType switch { GgufValueType.String => 8, GgufValueType.Array => 12, _ => GgufValue.FixedSize(elementType) };
        if (count > (ulong)(Remaining / minElement))
            throw Bad($"array '{key}' at byte {at} claims {count} {elementType} elements but only {Remaining} bytes remain (corrupt length or truncated file)");
        if (count > int.MaxValue) throw Bad($"array '{key}' has {count} elements, more than the workbench can hold");
        int n = (int)count;
        System.Array items;
        switch (elementType)
        {
            case GgufValueType.String:
            {
                var s = new string[n];
                for (int i = 0; i < n; i++) s[i] = Str($"element {i} of array '{key}'");
                items = s; break;
            }
            case GgufValueType.Array:
            {
                var a = new GgufValue[n];
                for (int i = 0; i < n; i++) a[i] = ReadArray(key, depth + 1);
                items = a; break;
            }
            default:
            {
                items = System.Array.CreateInstance(GgufValue.ClrType(elementType), n);
                int size = GgufValue.FixedSize(elementType);
                var raw = Take(checked(n * size), $"elements of array '{key}'");
                if (BitConverter.IsLittleEndian && elementType != GgufValueType.Bool)
                    raw.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(items), raw.Length)); // token_type arrays are large
                else
                    for (int i = 0; i < n; i++) items.SetValue(Scalar(elementType, raw.Slice(i * size, size)).Value, i);
                break;
            }
        }
        return GgufValue.Array(elementType, items);
    }

    private (string, long[], uint, ulong) ReadTensorInfo(ulong index)
    {
        string name = Str($"name of tensor {index}");
        if (name.Length == 0) throw Bad($"tensor {index} has an empty name");
        uint nDims = U32($"dimension count of tensor '{name}'");
        if (nDims is 0 or > MaxDims) throw Bad($"tensor '{name}' has {nDims} dimensions (1 to {MaxDims} allowed)");
        var dims = new long[nDims];
        for (int d = 0; d < nDims; d++)
        {
            ulong ne = U64($"dimension {d} of tensor '{name}'");
            if (ne > long.MaxValue) throw Bad($"tensor '{name}' dimension {d} is {ne}, which overflows");
            dims[d] = (long)ne;
        }
        uint type = U32($"type of tensor '{name}'");
        ulong offset = U64($"offset of tensor '{name}'");
        return (name, dims, type, offset);
    }

    private void AddTensor(string name, long[] dims, uint type, ulong relative)
    {
        if (_tensorByName.ContainsKey(name)) throw Bad($"tensor '{name}' appears twice");
        var format = type <= int.MaxValue ? FormatRegistry.ByGgmlType((int)type) : null;
        if (format is null && _allowForeign && GgmlTypes.BlockLayout(type) is var (block, blockBytes))
        {
            AddForeign(name, dims, type, relative, block, blockBytes);
            return;
        }
        if (format is null)
            throw Bad($"tensor '{name}': type {GgmlTypes.Describe(type)} is not supported by the workbench " +
                      $"(supported: {string.Join(", ", FormatRegistry.All.Where(f => f.GgmlTypeId is not null).Select(f => f.Name))})");
        string shape = $"[{string.Join(", ", dims)}]";
        long rows = 1;
        foreach (long d in dims.Skip(1))
        {
            if (d != 0 && rows > long.MaxValue / d) throw Bad($"tensor '{name}' dimensions {shape} overflow");
            rows *= d;
        }
        if (dims[0] != 0 && rows > long.MaxValue / dims[0]) throw Bad($"tensor '{name}' dimensions {shape} overflow");
        if (!format.Supports(dims[0]))
            throw Bad($"tensor '{name}' has rows of {dims[0]} elements, not a multiple of the {format.Name} block size {format.BlockSize}");
        long rowBytes = format.RowBytes(dims[0]);
        if (rowBytes != 0 && rows > long.MaxValue / rowBytes) throw Bad($"tensor '{name}' dimensions {shape} overflow");
        long bytes = rows * rowBytes;
        if (relative % Alignment != 0)
            throw Bad($"tensor '{name}' offset {relative} is not a multiple of the alignment {Alignment}");
        if (relative > (ulong)(long.MaxValue - DataOffset) || bytes > _file.Length - DataOffset - (long)relative)
            throw Bad($"tensor '{name}' data [{DataOffset} + {relative}, +{bytes} bytes) runs past the end of the file ({_file.Length} bytes)");
        var info = new GgufTensorInfo
        {
            Name = name, Dimensions = dims, GgmlType = type, Format = format,
            RelativeOffset = (long)relative, Offset = DataOffset + (long)relative, ByteLength = bytes,
        };
        _tensors.Add(info);
        _tensorByName.Add(name, info);
    }

    private void AddForeign(string name, long[] dims, uint type, ulong relative, int block, int blockBytes)
    {
        if (_tensorByName.ContainsKey(name) || _foreign.Any(f => f.Name == name)) throw Bad($"tensor '{name}' appears twice");
        if (dims[0] % block != 0) throw Bad($"tensor '{name}' has rows of {dims[0]} elements, not a multiple of the {GgmlTypes.Describe(type)} block size {block}");
        long elements = 1;
        foreach (long d in dims)
        {
            if (d != 0 && elements > long.MaxValue / d / blockBytes) throw Bad($"tensor '{name}' dimensions overflow");
            elements *= d;
        }
        long bytes = elements / block * blockBytes;
        if (relative % Alignment != 0) throw Bad($"tensor '{name}' offset {relative} is not a multiple of the alignment {Alignment}");
        if (relative > (ulong)(long.MaxValue - DataOffset) || bytes > _file.Length - DataOffset - (long)relative)
            throw Bad($"tensor '{name}' data [{DataOffset} + {relative}, +{bytes} bytes) runs past the end of the file ({_file.Length} bytes)");
        _foreign.Add(new GgufForeignTensor(name, dims, type, (long)relative, bytes));
    }

    /// <summary>
    /// Writers lay tensors out back to back, each padded to the alignment. An overlap, or a gap wider than the
    /// padding (a tensor whose type or shape was corrupted reads the wrong bytes), means the table is corrupt.
    /// </summary>
    private void CheckTiling()
    {
        long cursor = 0;
        var all = _tensors.Select(t => (t.Name, t.RelativeOffset, t.ByteLength))
            .Concat(_foreign.Select(t => (t.Name, t.RelativeOffset, t.ByteLength)));
        (string Name, long RelativeOffset, long ByteLength)? previous = null;
        foreach (var t in all.Where(t => t.ByteLength > 0).OrderBy(t => t.RelativeOffset))
        {
            if (t.RelativeOffset < cursor)
                throw Bad($"tensors '{previous!.Value.Name}' and '{t.Name}' overlap (data [{previous.Value.RelativeOffset}, {previous.Value.RelativeOffset + previous.Value.ByteLength}) and [{t.RelativeOffset}, ...))");
            if (t.RelativeOffset != AlignUp(cursor, Alignment))
                throw Bad($"{t.RelativeOffset - cursor} data bytes before tensor '{t.Name}' belong to no tensor " +
                          "(a tensor's type, shape or offset is corrupt)");
            cursor = t.RelativeOffset + t.ByteLength;
            previous = t;
        }
    }

    /// <summary><paramref name="x"/> rounded up to a multiple of <paramref name="alignment"/> (a power of two).</summary>
    public static long AlignUp(long x, long alignment) => (x + alignment - 1) & ~(alignment - 1);
}

/// <summary>A tensor in a ggml type the workbench only sizes (see <see cref="GgufFile.OpenMetadata"/>).</summary>
public sealed record GgufForeignTensor(string Name, long[] Dimensions, uint GgmlType, long RelativeOffset, long ByteLength)
{
    /// <summary>Number of weights.</summary>
    public long Elements => Dimensions.Aggregate(1L, (a, d) => a * d);
}
