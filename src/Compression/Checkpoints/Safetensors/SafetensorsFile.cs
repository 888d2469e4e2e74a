// SafetensorsFile: one .safetensors file, memory-mapped, its header strictly validated.
using System.Buffers.Binary;
using System.Text.Json;

namespace Compression.Checkpoints.Safetensors;

/// <summary>
/// An opened .safetensors file: an 8-byte little-endian header length N, N bytes of JSON
/// (<c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}</c>), then the data
/// region, to which the offsets are relative. The file stays mapped until disposed; tensors are
/// views into it. Every inconsistency is an <see cref="InvalidDataException"/> naming the file.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Largest header accepted (the Rust reference caps it at 100 MB too), so a corrupt length cannot force a huge allocation.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly MappedFile _file;

    private SafetensorsFile(MappedFile file, long headerBytes, IReadOnlyList<StoredTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        _file = file;
        HeaderBytes = headerBytes;
        TensorList = tensors;
        Tensors = tensors.ToDictionary(t => t.Name);
        Metadata = metadata;
    }

    public string Path => _file.Path;

    /// <summary>N, the length of the JSON header (the data region starts at 8 + N).</summary>
    public long HeaderBytes { get; }

    /// <summary>Absolute offset of the data region.</summary>
    public long DataOffset => 8 + HeaderBytes;

    /// <summary>Tensors by name.</summary>
    public IReadOnlyDictionary<string, StoredTensor> Tensors { get; }

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<StoredTensor> TensorList { get; }

    /// <summary>The "__metadata__" entries (empty when absent). Non-string values keep their JSON text.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Maps and validates <paramref name="path"/>.</summary>
    public static SafetensorsFile Open(string path)
    {
        var file = new MappedFile(path);
        try
        {
            return Parse(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static SafetensorsFile Parse(MappedFile file)
    {
        string path = file.Path;
        InvalidDataException Bad(string what) => new($"{path}: {what}");

        if (file.Length < 8)
            throw Bad($"file has {file.Length} bytes, too short for the 8-byte safetensors header length (truncated or not a safetensors file)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file.Span(0, 8, "header length"));
        // Both checks happen before anything is allocated from n.
        if (n > (ulong)(file.Length - 8))
            throw Bad($"header length {n} runs beyond the end of the file ({file.Length} bytes; truncated or not a safetensors file)");
        if (n > MaxHeaderBytes)
            throw Bad($"header length {n} exceeds the {MaxHeaderBytes}-byte limit (corrupt or not a safetensors file)");
        long headerBytes = (long)n;
        long dataLength = file.Length - 8 - headerBytes;

        var headerSpan = file.Span(8, (int)headerBytes, "header");
        // JsonDocument accepts invalid UTF-8 inside strings until a name is read; refuse it up front.
        if (!System.Text.Unicode.Utf8.IsValid(headerSpan))
            throw Bad($"header is not valid UTF-8 (corrupt, or the header length {n} is wrong)");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(headerSpan.ToArray()); }
        catch (JsonException e) { throw Bad($"header is not valid JSON ({e.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Bad($"header is a JSON {doc.RootElement.ValueKind}, expected an object of tensors");

            var metadata = new Dictionary<string, string>();
            var entries = new List<(StoredTensor Tensor, long Begin, long End)>();
            var seen = new HashSet<string>();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw Bad($"header names '{property.Name}' twice");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Bad("\"__metadata__\" is not a JSON object");
                    foreach (var m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                entries.Add(ParseTensor(file, property.Name, property.Value, 8 + headerBytes, dataLength));
            }

            // The format requires the tensors to tile the data region exactly: sorted by start, each begins where the
            // previous ended, the first at 0 and the last at the end of the file. A header length a few bytes off
            // (still valid JSON when the header ends in padding) shifts the region and is caught here.
            // Empty tensors occupy nothing and may sit anywhere in the region.
            var ordered = entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
            long cursor = 0;
            for (int i = 0; i < ordered.Count; i++)
            {
                var e = ordered[i];
                if (e.Begin < cursor)
                    throw Bad($"tensors '{ordered[i - 1].Tensor.Name}' (data [{ordered[i - 1].Begin}, {ordered[i - 1].End})) and " +
                              $"'{e.Tensor.Name}' (data [{e.Begin}, {e.End})) overlap");
                if (e.Begin > cursor)
                    throw Bad($"data bytes [{cursor}, {e.Begin}) before tensor '{e.Tensor.Name}' belong to no tensor " +
                              $"(the tensors must tile the data region; wrong header length or corrupt offsets)");
                cursor = e.End;
            }
            if (cursor != dataLength)
                throw Bad($"the tensors cover {cursor} bytes but the data region after the {headerBytes}-byte header holds {dataLength} " +
                          $"(they must tile it exactly; wrong header length, truncated or trailing bytes)");

            return new SafetensorsFile(file, headerBytes, entries.Select(e => e.Tensor).ToList(), metadata);
        }
    }

    private static (StoredTensor, long Begin, long End) ParseTensor(MappedFile file, string name, JsonElement entry, long dataOffset, long dataLength)
    {
        InvalidDataException Bad(string what) => new($"{file.Path}: tensor '{name}' {what}");

        if (entry.ValueKind != JsonValueKind.Object) throw Bad($"has a JSON {entry.ValueKind} entry, expected an object");
        if (!entry.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Bad("has no \"dtype\" string");
        string dtype = dtypeElement.GetString()!;
        var format = SafetensorsDtype.TryGetFormat(dtype) ?? throw (SafetensorsDtype.IsKnown(dtype)
            ? Bad($"has dtype {dtype}, which the workbench does not read (supported: {SafetensorsDtype.SupportedList})")
            : Bad($"has unknown dtype '{dtype}' (supported: {SafetensorsDtype.SupportedList})"));

        if (!entry.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Bad("has no \"shape\" array");
        var shape = new long[shapeElement.GetArrayLength()];
        if (shape.Length == 0) throw Bad("is a scalar (shape []); rank-0 tensors are not supported");
        long elements = 1;
        bool overflow = false;
        for (int i = 0; i < shape.Length; i++)
        {
            var d = shapeElement[i];
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out shape[i]))
                throw Bad($"has shape dimension {i} = {d.GetRawText()}, not an integer");
            if (shape[i] < 0) throw Bad($"has negative shape dimension {i} = {shape[i]}");
            try { elements = checked(elements * shape[i]); }
            catch (OverflowException) { overflow = true; }
        }
        string shapeText = $"[{string.Join(", ", shape)}]";
        long byteLength = 0;
        if (!overflow)
            try { byteLength = checked(elements * format.BytesPerBlock); }
            catch (OverflowException) { overflow = true; }
        if (overflow) throw Bad($"has shape {shapeText}, whose size overflows");

        if (!entry.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64Safe(out long begin) || !offsets[1].TryGetInt64Safe(out long end))
            throw Bad("has no \"data_offsets\" pair of integers [begin, end]");
        if (begin < 0 || end < begin)
            throw Bad($"has data_offsets [{begin}, {end}], which are not an ascending range");
        if (end - begin != byteLength)
            throw Bad($"has data_offsets [{begin}, {end}] spanning {end - begin} bytes, but {dtype} {shapeText} needs {byteLength}");
        if (end > dataLength)
            throw Bad($"has data_offsets [{begin}, {end}] beyond the data region, which holds {dataLength} bytes (truncated or corrupt)");

        var tensor = new StoredTensor
        {
            Name = name,
            FileTensorName = name,
            Shape = shape,
            Format = format,
            Source = file,
            Offset = dataOffset + begin,
        };
        return (tensor, begin, end);
    }

    /// <summary>Unmaps the file; its tensors must not be used afterwards.</summary>
    public void Dispose() => _file.Dispose();
}

internal static class JsonElementExtensions
{
    /// <summary>TryGetInt64 that returns false (instead of throwing) for non-numbers.</summary>
    public static bool TryGetInt64Safe(this JsonElement e, out long value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out value);
    }
}
