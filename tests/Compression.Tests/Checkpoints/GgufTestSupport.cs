// GgufTestSupport: a minimal test-only safetensors reader (the real one lives elsewhere) exposing the HF
// fixture as a Checkpoint, plus small file-patching helpers for the GGUF tests.
using System.Buffers.Binary;
using System.Text.Json;
using Compression.Checkpoints;
using Compression.Model;
using Compression.Quantization;

namespace Compression.Tests.Checkpoints;

/// <summary>The fixture's model.safetensors + config.json as a Checkpoint (F32 tensors only; enough for tests).</summary>
internal sealed class TestSafetensorsCheckpoint : Checkpoint
{
    private readonly MappedFile _file;
    private readonly Dictionary<string, StoredTensor> _tensors = [];

    public TestSafetensorsCheckpoint(string dir)
    {
        Path = dir;
        Config = LlamaConfig.Load(System.IO.Path.Combine(dir, "config.json"));
        _file = new MappedFile(System.IO.Path.Combine(dir, "model.safetensors"));
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(_file.Span(0, 8));
        using var header = JsonDocument.Parse(_file.Span(8, (int)headerLength).ToArray());
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            Assert.Equal("F32", entry.Value.GetProperty("dtype").GetString());
            _tensors[entry.Name] = new StoredTensor
            {
                Name = entry.Name, FileTensorName = entry.Name, Format = FormatRegistry.F32, Source = _file,
                Shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(),
                Offset = 8 + headerLength + entry.Value.GetProperty("data_offsets")[0].GetInt64(),
            };
        }
        CheckAgainstConfig(dir, Config, _tensors);
    }

    public override string Path { get; }
    public override LlamaConfig Config { get; }
    public override Compression.Tokenization.TokenizerData? LoadTokenizerData() => null;
    public override IReadOnlyDictionary<string, StoredTensor> Tensors => _tensors;
    public override string Kind => "safetensors";
    public override void Dispose() => _file.Dispose();
}

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
