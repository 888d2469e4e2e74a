// GgufWriterTests: what GgufWriter writes, GgufFile reads back identically; rewriting it gives the same bytes.
using System.Runtime.InteropServices;
using Compression.Checkpoints.Gguf;
using Compression.Quantization;

namespace Compression.Tests.Checkpoints;

public class GgufWriterTests
{
    private static GgufValue[] AllValues() =>
    [
        GgufValue.Of((byte)200), GgufValue.Of((sbyte)-100), GgufValue.Of((ushort)60000), GgufValue.Of((short)-30000),
        GgufValue.Of(4000000000u), GgufValue.Of(-2000000000), GgufValue.Of(1.5e-5f), GgufValue.Of(true),
        GgufValue.Of("héllo ✓"), GgufValue.Of(ulong.MaxValue), GgufValue.Of(long.MinValue), GgufValue.Of(Math.PI),
        GgufValue.Of(new[] { "a", "", "Ġthe" }), GgufValue.Of(new[] { 1, -2, 3 }), GgufValue.Of(new[] { 0.5f, -1f }),
        GgufValue.Array(GgufValueType.Bool, new[] { true, false }),
        GgufValue.Array(GgufValueType.UInt64, Array.Empty<ulong>()),
        GgufValue.Array(GgufValueType.Array, new[] { GgufValue.Of(new[] { 7, 8 }), GgufValue.Of(new[] { "x" }) }),
    ];

    private static readonly (string Name, long[] Dims, TensorFormat Format)[] TestTensors =
    [
        ("odd.f32", [5], FormatRegistry.F32),
        ("m.f16", [7, 3], FormatRegistry.F16),
        ("cube.bf16", [3, 2, 2], FormatRegistry.BF16),
        ("empty", [0], FormatRegistry.F32),
    ];

    private static byte[] DataOf(int index, long bytes) =>
        Enumerable.Range(0, (int)bytes).Select(i => (byte)(i * 31 + index * 7 + 1)).ToArray();

    private static string WriteSample(string dir, uint alignment = 32)
    {
        string path = Path.Combine(dir, "sample.gguf");
        using var w = new GgufWriter(path, alignment);
        var values = AllValues();
        for (int i = 0; i < values.Length; i++) w.Add($"test.key{i}", values[i]);
        foreach (var (name, dims, format) in TestTensors) w.AddTensor(name, dims, format);
        for (int i = 0; i < TestTensors.Length; i++)
        {
            var data = DataOf(i, w.TensorByteLength(i));
            w.WriteTensorData(data.AsSpan(0, data.Length / 2)); // in two chunks
            w.WriteTensorData(data.AsSpan(data.Length / 2));
        }
        w.Complete();
        return path;
    }

    [Fact]
    public void WrittenFileReadsBackExactly()
    {
        string path = WriteSample(TestPaths.NewTempDir("gguf-writer"));
        using var f = GgufFile.Open(path);
        Assert.Equal(3u, f.Version);
        Assert.Equal(32u, f.Alignment);
        var values = AllValues();
        Assert.Equal(values.Length, f.Metadata.Count);
        for (int i = 0; i < values.Length; i++)
        {
            var (key, got) = (f.Metadata[i].Key, f.Metadata[i].Value);
            Assert.Equal($"test.key{i}", key);
            AssertSameValue(values[i], got);
        }
        Assert.Equal(TestTensors.Length, f.Tensors.Count);
        for (int i = 0; i < TestTensors.Length; i++)
        {
            var t = f.Tensors[i];
            Assert.Equal(TestTensors[i].Name, t.Name);
            Assert.Equal(TestTensors[i].Dims, t.Dimensions);
            Assert.Equal(TestTensors[i].Format, t.Format);
            Assert.Equal(0, t.Offset % 32);
            Assert.Equal(DataOf(i, t.ByteLength), f.Mapped.Span(t.Offset, (int)t.ByteLength).ToArray());
        }
        Assert.Equal(3.0f * 2 * 2 * 2, f.Tensors[2].ByteLength);
        Assert.Equal("héllo ✓", f.GetString("test.key8"));
        Assert.Equal(4000000000u, f.GetUInt32("test.key4"));
        Assert.Equal(200u, f.GetUInt32("test.key0")); // any integer type that fits
        Assert.Equal(1.5e-5f, f.GetFloat32("test.key6"));
        Assert.Equal(new[] { "a", "", "Ġthe" }, f.GetStringArray("test.key12"));
        Assert.Null(f.TryGetString("absent"));
        var e = Assert.Throws<InvalidDataException>(() => f.GetString("test.key4"));
        Assert.Contains("should be a string", e.Message);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => f.GetUInt32("absent")).Message);
    }

    [Fact]
    public void RewritingAReadFileGivesTheSameBytes()
    {
        string dir = TestPaths.NewTempDir("gguf-writer");
        foreach (string source in new[] { WriteSample(dir), TestPaths.TinyLlamaFile("model-f32.gguf") })
        {
            string copy = Path.Combine(dir, "copy.gguf");
            using (var f = GgufFile.Open(source))
            using (var w = new GgufWriter(copy, f.Alignment))
            {
                foreach (var (key, value) in f.Metadata) w.Add(key, value);
                foreach (var t in f.Tensors) w.AddTensor(t.Name, t.Dimensions, t.Format);
                foreach (var t in f.Tensors) w.WriteTensorData(f.Mapped.Span(t.Offset, (int)t.ByteLength));
                w.Complete();
            }
            Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(copy));
        }
    }

    [Fact]
    public void FixtureHeaderIsWhatLlamaCppWrote()
    {
        using var f = GgufFile.Open(TestPaths.TinyLlamaFile("model-f32.gguf"));
        Assert.Equal(3u, f.Version);
        Assert.Equal(23, f.Metadata.Count);
        Assert.Equal(22, f.Tensors.Count);
        Assert.Equal(13344, f.DataOffset);
        Assert.Equal("token_embd.weight", f.Tensors[0].Name);
        Assert.Equal(new long[] { 128, 512 }, f.Tensors[0].Dimensions);
        Assert.Equal(new long[] { 512, 128 }, f.Tensors[0].Shape);
        Assert.Equal(GgufTensorNames.RopeFrequencies, f.Tensors[1].Name);
        Assert.Equal(f.Length, f.Tensors[^1].Offset + f.Tensors[^1].ByteLength);
    }

    [Fact]
    public void NonDefaultAlignmentIsRecordedAndHonoured()
    {
        string path = WriteSample(TestPaths.NewTempDir("gguf-writer"), alignment: 64);
        using var f = GgufFile.Open(path);
        Assert.Equal(64u, f.Alignment);
        Assert.Equal(64u, f.GetUInt32(GgufFile.AlignmentKey));
        Assert.Equal(0, f.DataOffset % 64);
        Assert.All(f.Tensors, t => Assert.Equal(0, t.RelativeOffset % 64));
        for (int i = 0; i < f.Tensors.Count; i++)
            Assert.Equal(DataOf(i, f.Tensors[i].ByteLength), f.Mapped.Span(f.Tensors[i].Offset, (int)f.Tensors[i].ByteLength).ToArray());
    }

    [Fact]
    public void IncompleteWriteLeavesNothing()
    {
        string dir = TestPaths.NewTempDir("gguf-writer");
        string path = Path.Combine(dir, "x.gguf");
        using (var w = new GgufWriter(path))
        {
            w.AddString("k", "v");
            w.AddTensor("t", [4], FormatRegistry.F32);
            w.AddTensor("u", [4], FormatRegistry.F32);
            w.WriteTensorData(new byte[16]);
            Assert.Throws<InvalidOperationException>(() => w.WriteTensorData(new byte[17])); // past the end of "u"
            Assert.Throws<InvalidOperationException>(() => w.Complete());                   // "u" is missing
            Assert.Throws<InvalidOperationException>(() => w.AddString("late", "x"));
        }
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void WriterRejectsWhatGgufCannotHold()
    {
        using var w = new GgufWriter(Path.Combine(TestPaths.NewTempDir("gguf-writer"), "x.gguf"));
        w.AddString("k", "v");
        Assert.Throws<ArgumentException>(() => w.AddString("k", "again"));
        Assert.Throws<ArgumentException>(() => w.AddUInt32(GgufFile.AlignmentKey, 16));
        Assert.Throws<ArgumentException>(() => w.AddTensor("five", [1, 2, 3, 4, 5], FormatRegistry.F32));
        w.AddTensor("t", [4], FormatRegistry.F32);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", [4], FormatRegistry.F32));
        Assert.Throws<ArgumentException>(() => GgufValue.Array(GgufValueType.Int32, new[] { 1u }));
    }

    private static void AssertSameValue(GgufValue expected, GgufValue actual)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.ElementType, actual.ElementType);
        if (expected.Value is GgufValue[] nested)
        {
            var got = Assert.IsType<GgufValue[]>(actual.Value);
            Assert.Equal(nested.Length, got.Length);
            for (int i = 0; i < nested.Length; i++) AssertSameValue(nested[i], got[i]);
        }
        else Assert.Equal(expected.Value, actual.Value);
    }
}
