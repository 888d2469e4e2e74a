// GgufTestSupport: small file-patching helpers for the GGUF tests.
using System.Buffers.Binary;
using System.Text.Json;
using Compression.Checkpoints;
using Compression.Model;
using Compression.Quantization;

namespace Compression.Tests.Checkpoints;

internal static class Bytes
{
    public static void PatchU32(string path, long offset, uint value)
    {
        var b = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)offset), value);
        File.WriteAllBytes(path, b);
    }

    public static void PatchU64(string path, long offset, ulong value)
    {
        var b = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)offset), value);
        File.WriteAllBytes(path, b);
    }

    public static uint ReadU32(string path, long offset) => BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(path).AsSpan((int)offset));
    public static ulong ReadU64(string path, long offset) => BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path).AsSpan((int)offset));
}
