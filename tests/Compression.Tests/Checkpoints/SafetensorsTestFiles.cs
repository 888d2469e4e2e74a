// SafetensorsTestFiles: builders for the small valid and malformed safetensors files the tests use.
using System.Buffers.Binary;
using System.Text;
using Compression.Model;

namespace Compression.Tests.Checkpoints;

internal static class SafetensorsTestFiles
{
    /// <summary>Writes [length][header][data] by hand; <paramref name="declaredLength"/> overrides the length prefix.</summary>
    public static string WriteRaw(string dir, string headerJson, int dataBytes, ulong? declaredLength = null, string name = "raw.safetensors")
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A small GQA config (hidden 64, 2 layers, 4 heads, 2 KV heads, vocab 256).</summary>
    public static LlamaConfig SmallConfig(bool tied = false) => new()
    {
        HiddenSize = 64,
        IntermediateSize = 96,
        NumLayers = 2,
        NumHeads = 4,
        NumKeyValueHeadsRaw = 2,
        VocabSize = 256,
        RopeTheta = 500000,
        TieWordEmbeddings = tied,
        BosTokenIds = [1],
        EosTokenIds = [2],
    };
}
