// GgufFields: an independent walk over a valid GGUF file listing where each header field lies, so the fuzzer can
// truncate at every structural boundary and set each length, count, type and offset field to extremes.
using System.Buffers.Binary;

namespace Compression.Tests.Robustness.Fuzz;

internal enum GgufFieldKind { Magic, Version, Count, StringLength, ValueType, ArrayLength, DimensionCount, Dimension, TensorType, TensorOffset, Value }

/// <summary>One field of a GGUF header: its kind, byte offset and size.</summary>
internal readonly record struct GgufField(GgufFieldKind Kind, int Offset, int Size);

internal static class GgufFields
{
    /// <summary>Every field of <paramref name="file"/>'s header in order, and the offset where the tensor table ends.</summary>
    public static (List<GgufField> Fields, int HeaderEnd) Walk(byte[] file)
    {
        var fields = new List<GgufField> { new(GgufFieldKind.Magic, 0, 4), new(GgufFieldKind.Version, 4, 4), new(GgufFieldKind.Count, 8, 8), new(GgufFieldKind.Count, 16, 8) };
        ulong tensors = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(8)), kvs = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(16));
        int pos = 24;
        int String()
        {
            fields.Add(new(GgufFieldKind.StringLength, pos, 8));
            int n = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(pos)));
            pos += 8 + n;
            return n;
        }
        void Value(uint type)
        {
            switch (type)
            {
                case 8: String(); break;
                case 9:
                    fields.Add(new(GgufFieldKind.ValueType, pos, 4));
                    uint et = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos));
                    pos += 4;
                    fields.Add(new(GgufFieldKind.ArrayLength, pos, 8));
                    long count = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(pos));
                    pos += 8;
                    for (long i = 0; i < count; i++) Value(et);
                    break;
                default:
                    int size = type switch { 0 or 1 or 7 => 1, 2 or 3 => 2, 4 or 5 or 6 => 4, _ => 8 };
                    fields.Add(new(GgufFieldKind.Value, pos, size));
                    pos += size;
                    break;
            }
        }
        for (ulong k = 0; k < kvs; k++)
        {
            String();
            fields.Add(new(GgufFieldKind.ValueType, pos, 4));
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos));
            pos += 4;
            Value(type);
        }
        for (ulong t = 0; t < tensors; t++)
        {
            String();
            fields.Add(new(GgufFieldKind.DimensionCount, pos, 4));
            uint n = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos));
            pos += 4;
            for (int d = 0; d < n; d++) { fields.Add(new(GgufFieldKind.Dimension, pos, 8)); pos += 8; }
            fields.Add(new(GgufFieldKind.TensorType, pos, 4)); pos += 4;
            fields.Add(new(GgufFieldKind.TensorOffset, pos, 8)); pos += 8;
        }
        return (fields, pos);
    }
}
