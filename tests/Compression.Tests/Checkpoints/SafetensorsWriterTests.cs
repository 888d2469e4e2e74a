// Tests for SafetensorsWriter and ShardedSafetensorsWriter: exact round trips, header layout, shard planning, atomicity.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using Compression.Checkpoints.Safetensors;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Tests.Checkpoints;

public class SafetensorsWriterTests
{
    private static float[] Values(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 6)));
        // Values where rounding matters: ties, signed zero, infinities, a subnormal, NaN.
        float[] special = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, 1e-40f, float.NaN,
                           BitConverter.UInt32BitsToSingle(0x3F808000), BitConverter.UInt32BitsToSingle(0x3F818000), 65520f];
        special.AsSpan(0, Math.Min(special.Length, n)).CopyTo(v);
        return v;
    }

    /// <summary>What each format must store for x, computed independently of the writer's conversion path.</summary>
    private static byte[] Expected(TensorFormat f, float[] x)
    {
        if (f == FormatRegistry.F32) return MemoryMarshal.AsBytes(x.AsSpan()).ToArray();
        if (f == FormatRegistry.F16) return MemoryMarshal.AsBytes(x.Select(v => (Half)v).ToArray().AsSpan()).ToArray();
        return MemoryMarshal.AsBytes(x.Select(BF16Format.FromFloat).ToArray().AsSpan()).ToArray();
    }

    [Fact]
    public void Floats_round_trip_exactly_in_every_format_across_uneven_chunks()
    {
        string path = Path.Combine(TestPaths.NewTempDir("stw"), "rt.safetensors");
        var decl = new TensorDeclaration[]
        {
            new("a.f32", FormatRegistry.F32, [7, 13]),
            new("b.f16", FormatRegistry.F16, [5, 11]),
            new("c.bf16", FormatRegistry.BF16, [3, 3, 9]),
            new("d.empty", FormatRegistry.F32, [0, 4]),
            new("e.bf16", FormatRegistry.BF16, [1]),
        };
        var values = decl.Select((d, i) => Values((int)d.Elements, i)).ToArray();
        var all = values.SelectMany(v => v).ToArray();
        using (var w = new SafetensorsWriter(path, decl))
        {
            // Chunks of 17 values cross tensor boundaries; each part is converted to its own tensor's format.
            for (int i = 0; i < all.Length; i += 17) w.WriteFloats(all.AsSpan(i, Math.Min(17, all.Length - i)));
            Assert.False(File.Exists(path)); // still under its temporary name
            w.Complete();
        }

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(decl.Select(d => d.Name), file.TensorList.Select(t => t.Name));
        Assert.Equal(0, file.HeaderBytes % 8);
        Assert.Equal(0, file.DataOffset % 8);
        Assert.Equal("pt", file.Metadata["format"]);
        for (int i = 0; i < decl.Length; i++)
        {
            var t = file.Tensors[decl[i].Name];
            Assert.Equal(decl[i].Shape, t.Shape);
            Assert.Same(decl[i].Format, t.Format);
            var bytes = new byte[t.ByteLength];
            t.CopyTo(bytes);
            Assert.Equal(Expected(decl[i].Format, values[i]), bytes);
        }
        // And the stored floats read back as the rounded values.
        var bf = file.Tensors["c.bf16"].ToFloat32();
        for (int i = 0; i < bf.Length; i++)
            Assert.Equal(BF16Format.ToFloat(BF16Format.FromFloat(values[2][i])), bf[i]);
        Assert.Equal(values[0], file.Tensors["a.f32"].ToFloat32());
    }

    [Fact]
    public void Raw_bytes_round_trip_and_header_is_space_padded_json()
    {
        string path = Path.Combine(TestPaths.NewTempDir("stw"), "raw.safetensors");
        var decl = new TensorDeclaration[] { new("x", FormatRegistry.F16, [3, 5]), new("y", FormatRegistry.BF16, [6]) };
        var data = new byte[decl.Sum(d => d.ByteLength)];
        new Random(3).NextBytes(data);
        using (var w = new SafetensorsWriter(path, decl, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "é\"" }))
        {
            w.Write(data.AsSpan(0, 7));
            w.Write(data.AsSpan(7));
            Assert.Null(w.Current);
            w.Complete();
        }
        var fileBytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(fileBytes);
        Assert.Equal(fileBytes.Length, 8 + n + data.Length);
        Assert.Equal(data, fileBytes[(int)(8 + n)..]);
        string header = System.Text.Encoding.UTF8.GetString(fileBytes, 8, (int)n);
        Assert.Equal(header.TrimEnd(' ').Length, header.TrimEnd().Length); // padding is spaces only
        using var doc = JsonDocument.Parse(header);
        Assert.Equal("[0,30]", doc.RootElement.GetProperty("x").GetProperty("data_offsets").GetRawText());
        Assert.Equal("[30,42]", doc.RootElement.GetProperty("y").GetProperty("data_offsets").GetRawText());
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("é\"", file.Metadata["note"]);
    }

    [Fact]
    public void Incomplete_writer_leaves_no_file_and_refuses_excess()
    {
        string dir = TestPaths.NewTempDir("stw");
        string path = Path.Combine(dir, "inc.safetensors");
        using (var w = new SafetensorsWriter(path, [new("x", FormatRegistry.F32, [4])]))
        {
            w.WriteFloats([1f, 2f]);
            var ex = Assert.Throws<InvalidOperationException>(() => w.Complete());
            Assert.Contains("'x'", ex.Message);
            Assert.Throws<InvalidOperationException>(() => w.Write(new byte[9]));
        }
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Declarations_that_safetensors_cannot_hold_are_rejected()
    {
        string path = Path.Combine(TestPaths.NewTempDir("stw"), "bad.safetensors");
        Assert.Throws<ArgumentException>(() => new SafetensorsWriter(path, [new("x", FormatRegistry.F32, [2]), new("x", FormatRegistry.F32, [2])]));
        Assert.Throws<ArgumentException>(() => new SafetensorsWriter(path, [new("__metadata__", FormatRegistry.F32, [2])]));
        Assert.Throws<ArgumentException>(() => new SafetensorsWriter(path, [new("x", FormatRegistry.F32, [-1, 2])]));
        string dir = TestPaths.NewTempDir("stw");
        var ex = Assert.Throws<ArgumentException>(() => new ShardedSafetensorsWriter(dir,
            [new("x", FormatRegistry.F32, [64]), new("y", FormatRegistry.F32, [64]), new("x", FormatRegistry.F32, [64])], 256));
        Assert.Contains("'x' declared twice", ex.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Shards_follow_the_hugging_face_rule()
    {
        TensorDeclaration T(string name, long floats) => new(name, FormatRegistry.F32, [floats]);
        var tensors = new[] { T("a", 10), T("b", 10), T("big", 100), T("c", 5), T("d", 6), T("e", 1) }; // bytes 40 40 400 20 24 4
        var plan = ShardedSafetensorsWriter.PlanShards(tensors, 80);
        Assert.Equal([["a", "b"], ["big"], ["c", "d", "e"]], plan.Select(s => s.Select(t => t.Name).ToArray()).ToArray());
        Assert.Single(ShardedSafetensorsWriter.PlanShards(tensors, 1000));
        Assert.Equal(6, ShardedSafetensorsWriter.PlanShards(tensors, 1).Count);
    }

    [Fact]
    public void Sharded_writer_writes_shards_and_index_streaming_across_boundaries()
    {
        string dir = TestPaths.NewTempDir("stw");
        var decl = Enumerable.Range(0, 5).Select(i => new TensorDeclaration($"t{i}", FormatRegistry.BF16, [4, 8])).ToArray(); // 64 B each
        var values = Values(5 * 32, 9);
        using (var w = new ShardedSafetensorsWriter(dir, decl, 130))
        {
            Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"],
                         w.ShardFileNames);
            w.WriteFloats(values.AsSpan(0, 50));
            w.WriteFloats(values.AsSpan(50));
            w.Complete();
        }
        Assert.False(File.Exists(Path.Combine(dir, "model.safetensors")));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "model.safetensors.index.json")));
        Assert.Equal(5 * 64, doc.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var map = doc.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal("model-00001-of-00003.safetensors", map["t1"]);
        Assert.Equal("model-00003-of-00003.safetensors", map["t4"]);
        using var last = SafetensorsFile.Open(Path.Combine(dir, "model-00003-of-00003.safetensors"));
        Assert.Equal(Expected(FormatRegistry.BF16, values[128..]), MemoryMarshalBytes(last.Tensors["t4"]));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    private static byte[] MemoryMarshalBytes(Compression.Checkpoints.StoredTensor t)
    {
        var b = new byte[t.ByteLength];
        t.CopyTo(b);
        return b;
    }
}
