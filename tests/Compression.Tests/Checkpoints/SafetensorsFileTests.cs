// Tests for SafetensorsFile: the fixture's values (checked against Python's struct reader) and strict header validation.
using Compression.Checkpoints.Safetensors;
using Compression.Quantization;
using static Compression.Tests.Checkpoints.SafetensorsTestFiles;

namespace Compression.Tests.Checkpoints;

public class SafetensorsFileTests
{
    [Fact]
    public void Fixture_file_reads_values_an_independent_reader_sees()
    {
        using var file = SafetensorsFile.Open(TestPaths.TinyLlamaFile("model.safetensors"));
        Assert.Equal(2192, file.HeaderBytes);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(21, file.Tensors.Count); // 2 layers × 9 + embeddings, final norm, LM head
        Assert.All(file.TensorList, t => Assert.Same(FormatRegistry.F32, t.Format));

        // Expected numbers come from Python's struct module reading the same file.
        var embed = file.Tensors["model.embed_tokens.weight"];
        Assert.Equal([512L, 128L], embed.Shape);
        Assert.Equal(8 + 2192, embed.Offset);
        var e = embed.ToFloat32();
        Assert.Equal(-0.8019183874130249f, e[0]);
        Assert.Equal(-0.14802351593971252f, e[^1]);
        Assert.Equal(0.17384663224220276f, e[3 * 128 + 5]);
        Assert.Equal(-26.65522081511699, e.Sum(x => (double)x), 9);

        var down = file.Tensors["model.layers.1.mlp.down_proj.weight"].ToFloat32();
        Assert.Equal(0.09590467810630798f, down[3 * 384 + 5]);
        Assert.Equal(4.530226975623407, down.Sum(x => (double)x), 9);
        var norm = file.Tensors["model.norm.weight"].ToFloat32();
        Assert.Equal(1.1434156894683838f, norm[7]);
        Assert.Equal(129.8448326587677, norm.Sum(x => (double)x), 9);
    }

    [Fact]
    public void Reference_logits_file_opens_without_a_config()
    {
        using var file = SafetensorsFile.Open(TestPaths.TinyLlamaFile("reference-logits.safetensors"));
        Assert.Equal(["f32.full", "f32.incremental", "q8_0.full", "q4_0.full", "q1_0.full", "numpy.full"],
                     file.TensorList.Select(t => t.Name));
        Assert.All(file.TensorList, t => Assert.Equal([60L, 512L], t.Shape));
        Assert.Empty(file.Metadata);
    }

    private static InvalidDataException Fails(string path, params string[] fragments)
    {
        var ex = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, ex.Message);
        foreach (var f in fragments) Assert.Contains(f, ex.Message);
        return ex;
    }

    private const string OneTensor = """{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}""";

    [Fact]
    public void Valid_hand_written_file_opens()
    {
        string dir = TestPaths.NewTempDir("st");
        using var file = SafetensorsFile.Open(WriteRaw(dir, OneTensor, 24));
        Assert.Equal([2L, 3L], file.Tensors["w"].Shape);
    }

    [Fact]
    public void Truncated_file_shorter_than_the_length_prefix()
    {
        string path = Path.Combine(TestPaths.NewTempDir("st"), "short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Fails(path, "3 bytes", "too short");
    }

    [Fact]
    public void Truncated_data_region()
    {
        string dir = TestPaths.NewTempDir("st");
        Fails(WriteRaw(dir, OneTensor, 20), "tensor 'w'", "beyond the data region", "20 bytes");
    }

    [Theory]
    [InlineData(1_000_000UL)]
    [InlineData(ulong.MaxValue)]
    public void Header_length_beyond_the_file(ulong declared)
    {
        string dir = TestPaths.NewTempDir("st");
        Fails(WriteRaw(dir, OneTensor, 24, declared), $"header length {declared}", "beyond the end of the file");
    }

    [Fact]
    public void Header_length_over_the_cap_is_refused_before_reading()
    {
        string path = WriteRaw(TestPaths.NewTempDir("st"), OneTensor, 24, SafetensorsFile.MaxHeaderBytes + 1);
        using (var f = File.OpenWrite(path)) f.SetLength(SafetensorsFile.MaxHeaderBytes + 100); // sparse: no real 100 MB written
        Fails(path, $"header length {SafetensorsFile.MaxHeaderBytes + 1}", "limit");
    }

    [Fact]
    public void Header_that_is_not_json()
    {
        string dir = TestPaths.NewTempDir("st");
        Fails(WriteRaw(dir, "{\"w\": [1, 2", 0), "header is not valid JSON");
    }

    [Fact]
    public void Unknown_dtype_lists_the_supported_ones()
    {
        string dir = TestPaths.NewTempDir("st");
        Fails(WriteRaw(dir, OneTensor.Replace("F32", "Q9"), 24), "tensor 'w'", "unknown dtype 'Q9'", "F32, F16, BF16");
    }

    [Theory]
    [InlineData("I8")]
    [InlineData("F64")]
    public void Known_but_unsupported_dtype_says_so(string dtype)
    {
        string dir = TestPaths.NewTempDir("st");
        Fails(WriteRaw(dir, OneTensor.Replace("F32", dtype), 48), "tensor 'w'", $"dtype {dtype}", "does not read");
    }

    [Fact]
    public void Negative_dimension()
    {
        string dir = TestPaths.NewTempDir("st");
        Fails(WriteRaw(dir, OneTensor.Replace("[2, 3]", "[-2, 3]"), 24), "tensor 'w'", "negative shape dimension");
    }

    [Fact]
    public void Overflowing_shape()
    {
        string dir = TestPaths.NewTempDir("st");
        Fails(WriteRaw(dir, OneTensor.Replace("[2, 3]", "[4294967296, 4294967296]"), 24), "tensor 'w'", "overflows");
    }

    [Fact]
    public void Offsets_that_disagree_with_the_shape()
    {
        string dir = TestPaths.NewTempDir("st");
        Fails(WriteRaw(dir, OneTensor.Replace("[0, 24]", "[0, 20]"), 24), "tensor 'w'", "spanning 20 bytes", "needs 24");
    }

    [Fact]
    public void Offsets_out_of_range()
    {
        string dir = TestPaths.NewTempDir("st");
        Fails(WriteRaw(dir, OneTensor.Replace("[0, 24]", "[16, 40]"), 24), "tensor 'w'", "[16, 40]", "beyond the data region");
        Fails(WriteRaw(dir, OneTensor.Replace("[0, 24]", "[24, 0]"), 24, name: "b.safetensors"), "tensor 'w'", "not an ascending range");
    }

    [Fact]
    public void Overlapping_tensors_name_both()
    {
        string dir = TestPaths.NewTempDir("st");
        const string header = """
            {"b": {"dtype": "F16", "shape": [8], "data_offsets": [16, 32]},
             "a": {"dtype": "F32", "shape": [5], "data_offsets": [0, 20]}}
            """;
        Fails(WriteRaw(dir, header, 32), "'a'", "'b'", "overlap");
    }

    [Fact]
    public void Header_that_is_not_an_object_or_misses_fields()
    {
        string dir = TestPaths.NewTempDir("st");
        Fails(WriteRaw(dir, "[1, 2]", 0), "expected an object");
        Fails(WriteRaw(dir, """{"w": {"dtype": "F32", "shape": [1]}}""", 4, name: "b.safetensors"), "tensor 'w'", "data_offsets");
        Fails(WriteRaw(dir, """{"w": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}""", 4, name: "c.safetensors"), "tensor 'w'", "rank-0");
    }

    [Fact]
    public void Empty_tensors_are_allowed_and_do_not_overlap()
    {
        string dir = TestPaths.NewTempDir("st");
        const string header = """
            {"e": {"dtype": "BF16", "shape": [0, 4], "data_offsets": [4, 4]},
             "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
            """;
        using var file = SafetensorsFile.Open(WriteRaw(dir, header, 8));
        Assert.Equal(0, file.Tensors["e"].ByteLength);
        Assert.Same(FormatRegistry.BF16, file.Tensors["e"].Format);
    }
}
