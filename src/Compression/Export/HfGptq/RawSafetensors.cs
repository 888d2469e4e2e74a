// RawSafetensors: a safetensors file of any dtype (I32, F16 …), written tensor by tensor and read back as raw bytes —
// for GPTQ checkpoints, whose int32 tensors the workbench's float-only safetensors loader rightly refuses.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Compression.Checkpoints;

namespace Compression.Export.HfGptq;

/// <summary>One tensor of a raw safetensors file: name, dtype string, shape and byte length.</summary>
public sealed record RawTensor(string Name, string Dtype, long[] Shape)
{
    public long ByteLength => Shape.Aggregate(1L, (a, b) => a * b) * Dtype switch
    {
        "I32" or "F32" => 4,
        "F16" or "BF16" => 2,
        "U8" or "I8" => 1,
        _ => throw new ArgumentException($"dtype {Dtype} is not used by GPTQ checkpoints"),
    };
}

public static class RawSafetensors
{
    /// <summary>
    /// Writes the header for <paramref name="tensors"/> (data in the given order), then calls <paramref name="write"/>
    /// once per tensor with the stream positioned at its data; checks each wrote exactly its byte length.
    /// </summary>
    public static void Write(Stream s, IReadOnlyList<RawTensor> tensors, IReadOnlyDictionary<string, string> metadata, Action<RawTensor, Stream> write)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };
        long offset = 0;
        foreach (var t in tensors)
        {
            header[t.Name] = new JsonObject
            {
                ["dtype"] = t.Dtype,
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + t.ByteLength),
            };
            offset += t.ByteLength;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // data starts 8-byte aligned, padded with spaces as the spec allows
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(len, padded);
        s.Write(len);
        s.Write(json);
        for (int i = json.Length; i < padded; i++) s.WriteByte((byte)' ');
        foreach (var t in tensors)
        {
            long start = s.Position;
            write(t, s);
            if (s.Position - start != t.ByteLength)
                throw new InvalidOperationException($"{t.Name}: wrote {s.Position - start} bytes, declared {t.ByteLength}");
        }
    }

    /// <summary>The tensors of a safetensors file: (dtype, shape, absolute offset) by name, over a mapping the caller disposes.</summary>
    public static (MappedFile File, Dictionary<string, (string Dtype, long[] Shape, long Offset, long Length)> Tensors) Open(string path)
    {
        var file = new MappedFile(path);
        try
        {
            if (file.Length < 8) throw new InvalidDataException($"{path}: too short for a safetensors file");
            long headerLength = BinaryPrimitives.ReadInt64LittleEndian(file.Span(0, 8));
            if (headerLength <= 0 || headerLength > 100_000_000 || 8 + headerLength > file.Length)
                throw new InvalidDataException($"{path}: header length {headerLength} does not fit the file");
            using var doc = JsonDocument.Parse(file.Span(8, (int)headerLength, "header").ToArray());
            var tensors = new Dictionary<string, (string, long[], long, long)>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__") continue;
                string dtype = p.Value.GetProperty("dtype").GetString()!;
                long[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var offs = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long start = 8 + headerLength + offs[0], length = offs[1] - offs[0];
                if (offs[0] < 0 || length < 0 || start + length > file.Length)
                    throw new InvalidDataException($"{path}: tensor '{p.Name}' lies outside the file");
                tensors[p.Name] = (dtype, shape, start, length);
            }
            return (file, tensors);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            file.Dispose();
            throw new InvalidDataException($"{path}: malformed safetensors header ({e.Message})");
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
