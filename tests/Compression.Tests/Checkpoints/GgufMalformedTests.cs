// GgufMalformedTests: every kind of damage to a GGUF file gives an InvalidDataException naming the file and
// the problem — never a crash, and never an allocation sized by a corrupt count.
using Compression.Checkpoints.Gguf;
using Compression.Quantization;

namespace Compression.Tests.Checkpoints;

public class GgufMalformedTests
{
    // Byte layout of the sample below (checked in SampleLayoutIsAsDocumented):
    private const int TensorCountAt = 8, KvCountAt = 16;
    private const int StringLengthAt = 37;           // value length of "a" = "hello"
    private const int KvTypeAt = 33;                 // value type of "a"
    private const int ArrayCountAt = 67;             // length of "b" = [1, 2, 3]
    private const int DimsAt = 100, TensorTypeAt = 116, TensorOffsetAt = 120, FileLength = 192;

    private static string Sample()
    {
        string path = Path.Combine(TestPaths.NewTempDir("gguf-bad"), "sample.gguf");
        using var w = new GgufWriter(path);
        w.AddString("a", "hello");
        w.AddInt32Array("b", [1, 2, 3]);
        w.AddTensor("t", [8, 2], FormatRegistry.F32);
        w.WriteTensorData(new byte[64]);
        w.Complete();
        return path;
    }

    private static InvalidDataException Fails(string path, string expected)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path).Dispose());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"rejecting the file allocated {allocated} bytes");
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        return e;
    }

    [Fact]
    public void SampleLayoutIsAsDocumented()
    {
        string path = Sample();
        Assert.Equal(FileLength, new FileInfo(path).Length);
        Assert.Equal(1ul, Bytes.ReadU64(path, TensorCountAt));
        Assert.Equal(2ul, Bytes.ReadU64(path, KvCountAt));
        Assert.Equal((uint)GgufValueType.String, Bytes.ReadU32(path, KvTypeAt));
        Assert.Equal(5ul, Bytes.ReadU64(path, StringLengthAt));
        Assert.Equal(3ul, Bytes.ReadU64(path, ArrayCountAt));
        Assert.Equal(8ul, Bytes.ReadU64(path, DimsAt));
        Assert.Equal(0u, Bytes.ReadU32(path, TensorTypeAt));
        Assert.Equal(0ul, Bytes.ReadU64(path, TensorOffsetAt));
        using var f = GgufFile.Open(path);
        Assert.Equal(128, f.DataOffset);
    }

    [Fact]
    public void BadMagic()
    {
        string path = Sample();
        Bytes.PatchU32(path, 0, 0x47475546); // "FUGG"
        Fails(path, "magic");
    }

    [Theory]
    [InlineData(1u, "version 1")]
    [InlineData(7u, "unsupported GGUF version 7")]
    [InlineData(0x03000000u, "big-endian")]
    public void BadVersion(uint version, string expected)
    {
        string path = Sample();
        Bytes.PatchU32(path, 4, version);
        Fails(path, expected);
    }

    [Fact]
    public void UnknownTensorTypeIsNamed()
    {
        string path = Sample();
        Bytes.PatchU32(path, TensorTypeAt, 12);
        Fails(path, "type 12 (q4_K) is not supported");
        Bytes.PatchU32(path, TensorTypeAt, 1000);
        Fails(path, "type 1000 (unknown ggml type)");
    }

    [Fact]
    public void TensorDataPastEndOfFile()
    {
        string path = Sample();
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..(FileLength - 8)]);
        Fails(path, "runs past the end of the file");
    }

    [Fact]
    public void TensorOffsetPastEndOfFile()
    {
        string path = Sample();
        Bytes.PatchU64(path, TensorOffsetAt, 1ul << 62);
        Fails(path, "runs past the end of the file");
    }

    [Fact]
    public void MisalignedTensorOffset()
    {
        string path = Sample();
        Bytes.PatchU64(path, TensorOffsetAt, 4);
        Fails(path, "not a multiple of the alignment 32");
    }

    [Fact]
    public void DimensionsOverflow()
    {
        string path = Sample();
        Bytes.PatchU64(path, DimsAt, long.MaxValue);
        Fails(path, "overflow");
        Bytes.PatchU64(path, DimsAt, ulong.MaxValue);
        Fails(path, "overflows");
    }

    [Fact]
    public void AbsurdTensorCount()
    {
        string path = Sample();
        Bytes.PatchU64(path, TensorCountAt, 1ul << 40);
        Fails(path, "tensor count 1099511627776 is impossible");
    }

    [Fact]
    public void AbsurdKvCount()
    {
        string path = Sample();
        Bytes.PatchU64(path, KvCountAt, ulong.MaxValue);
        Fails(path, "metadata count 18446744073709551615 is impossible");
    }

    [Fact]
    public void StringLengthPastEnd()
    {
        string path = Sample();
        Bytes.PatchU64(path, StringLengthAt, 1ul << 40);
        Fails(path, "claims 1099511627776 bytes");
    }

    [Fact]
    public void ArrayLengthPastEnd()
    {
        string path = Sample();
        Bytes.PatchU64(path, ArrayCountAt, 1ul << 60);
        Fails(path, "array 'b'");
    }

    [Fact]
    public void UnknownValueType()
    {
        string path = Sample();
        Bytes.PatchU32(path, KvTypeAt, 13);
        Fails(path, "unknown value type 13");
    }

    [Fact]
    public void EveryTruncationIsReported()
    {
        string path = Sample();
        var full = File.ReadAllBytes(path);
        for (int n = 0; n < full.Length; n++)
        {
            File.WriteAllBytes(path, full[..n]);
            var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path).Dispose());
            Assert.Contains(path, e.Message);
        }
    }

    [Fact]
    public void RandomDamageNeverCrashes()
    {
        string path = Sample();
        var full = File.ReadAllBytes(path);
        var rng = new Random(1234);
        for (int trial = 0; trial < 500; trial++)
        {
            var bytes = (byte[])full.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(0, 128)] = (byte)rng.Next(256);
            File.WriteAllBytes(path, bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { GgufFile.Open(path).Dispose(); }
            catch (InvalidDataException e) { Assert.Contains(path, e.Message); }
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, $"trial {trial} allocated too much");
        }
    }

    [Fact]
    public void CheckpointRejectsOtherArchitecturesAndMissingKeys()
    {
        string path = Sample();
        var e = Assert.Throws<InvalidDataException>(() => GgufCheckpoint.Open(path).Dispose());
        Assert.Contains("general.architecture is missing", e.Message);

        string gemma = Path.Combine(TestPaths.NewTempDir("gguf-bad"), "gemma.gguf");
        using (var w = new GgufWriter(gemma)) { w.AddString("general.architecture", "gemma2"); w.Complete(); }
        var unknown = Assert.Throws<InvalidDataException>(() => GgufCheckpoint.Open(gemma).Dispose()).Message;
        Assert.Contains("architecture 'gemma2' is not supported; supported: llama, qwen3", unknown);

        string qwen = Path.Combine(TestPaths.NewTempDir("gguf-bad"), "qwen.gguf");
        using (var w = new GgufWriter(qwen)) { w.AddString("general.architecture", "qwen3"); w.Complete(); }
        Assert.Contains("qwen3.embedding_length", Assert.Throws<InvalidDataException>(() => GgufCheckpoint.Open(qwen).Dispose()).Message);

        string noKeys = Path.Combine(TestPaths.NewTempDir("gguf-bad"), "llama.gguf");
        using (var w = new GgufWriter(noKeys)) { w.AddString("general.architecture", "llama"); w.Complete(); }
        var e2 = Assert.Throws<InvalidDataException>(() => GgufCheckpoint.Open(noKeys).Dispose());
        Assert.Contains(noKeys, e2.Message);
        Assert.Contains("llama.embedding_length", e2.Message);
    }

    [Fact]
    public void CheckpointRejectsAMissingTensor()
    {
        // The fixture's metadata with one tensor dropped.
        string fixture = TestPaths.TinyLlamaFile("model-f32.gguf");
        string path = Path.Combine(TestPaths.NewTempDir("gguf-bad"), "missing.gguf");
        using (var f = GgufFile.Open(fixture))
        using (var w = new GgufWriter(path))
        {
            foreach (var (key, value) in f.Metadata) w.Add(key, value);
            var kept = f.Tensors.Where(t => t.Name != "blk.1.ffn_up.weight").ToList();
            foreach (var t in kept) w.AddTensor(t.Name, t.Dimensions, t.Format);
            foreach (var t in kept) w.WriteTensorData(f.Mapped.Span(t.Offset, (int)t.ByteLength));
            w.Complete();
        }
        var e = Assert.Throws<InvalidDataException>(() => GgufCheckpoint.Open(path).Dispose());
        Assert.Contains("model.layers.1.mlp.up_proj.weight' is missing", e.Message);
    }
}

public class GgufCheckpointDamageTests
{
    /// <summary>Damage in the fixture's llama.* keys and tensor table: the checkpoint opens or fails cleanly.</summary>
    [Fact]
    public void DamagedFixtureHeaderNeverCrashes()
    {
        string fixture = TestPaths.TinyLlamaFile("model-f32.gguf");
        var full = File.ReadAllBytes(fixture);
        long tableStart, tableEnd;
        using (var f = GgufFile.Open(fixture)) { tableEnd = f.DataOffset; }
        tableStart = tableEnd - 1500; // the tensor table is the last ~1.3 KB of the header
        string path = Path.Combine(TestPaths.NewTempDir("gguf-bad"), "damaged.gguf");
        var rng = new Random(99);
        int failures = 0;
        for (int trial = 0; trial < 100; trial++)
        {
            var bytes = (byte[])full.Clone();
            // The llama.* keys sit in the first ~700 bytes; the tensor table just before the data.
            int at = trial % 2 == 0 ? rng.Next(24, 700) : rng.Next((int)tableStart, (int)tableEnd);
            bytes[at] = (byte)rng.Next(256);
            File.WriteAllBytes(path, bytes);
            try { GgufCheckpoint.Open(path).Dispose(); }
            catch (InvalidDataException e) { Assert.Contains(path, e.Message); failures++; }
        }
        Assert.True(failures > 0); // the damage was real
    }
}
