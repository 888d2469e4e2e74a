// MalformedInputTests: one test per class of bad input the robustness issue lists — implausible sizes caught before
// any allocation, a safetensors data region not tiled by its tensors, invalid UTF-8, a tied config with its own head.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Checkpoints.Safetensors;
using Compression.Model;
using Compression.Quantization;

namespace Compression.Tests.Robustness;

public sealed class MalformedInputTests
{
    private static string ConfigWith(string field, JsonNode? value)
    {
        var json = JsonNode.Parse(File.ReadAllText(TestPaths.TinyLlamaFile("config.json")))!.AsObject();
        json[field] = value;
        return json.ToJsonString();
    }

    [Theory]
    [InlineData("num_hidden_layers", 100_000_000, 1024)]
    [InlineData("num_hidden_layers", 1025, 1024)]
    [InlineData("vocab_size", 4_194_305, 4_194_304)]
    [InlineData("hidden_size", 1_048_576, 131_072)]
    [InlineData("intermediate_size", 2_000_000_000, 1_048_576)]
    [InlineData("num_attention_heads", 4096, 1024)]
    [InlineData("max_position_embeddings", 2_000_000_000, 16_777_216)]
    public void Implausible_sizes_are_refused_with_the_limit_and_the_value_before_any_allocation(string field, int value, int limit)
    {
        string json = ConfigWith(field, value);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.Parse(json, "cfg.json"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith("cfg.json: ", e.Message);
        Assert.Contains(field, e.Message);
        Assert.Contains(value.ToString("N0"), e.Message);
        Assert.Contains(limit.ToString("N0"), e.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated:N0} bytes before refusing");
    }

    [Fact]
    public void The_largest_real_configs_pass_the_bounds()
    {
        foreach (var name in LlamaConfig.PresetNames) Assert.True(LlamaConfig.Preset(name).NumLayers > 0);
    }

    [Fact]
    public void A_huge_gguf_block_count_is_refused_from_metadata_alone()
    {
        string path = Path.Combine(TestPaths.NewTempDir("gguf-bounds"), "m.gguf");
        using (var w = new GgufWriter(path))
        {
            w.AddString("general.architecture", "llama");
            w.AddUInt32("llama.embedding_length", 64);
            w.AddUInt32("llama.attention.head_count", 4);
            w.AddUInt32("llama.feed_forward_length", 96);
            w.AddUInt32("llama.block_count", 100_000_000);
            w.AddUInt32("llama.vocab_size", 256);
            w.AddFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
            w.Complete();
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => GgufCheckpoint.Open(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20);
        Assert.Contains("num_hidden_layers = 100,000,000", e.Message);
        Assert.Contains("1,024", e.Message);
    }

    [Fact]
    public void A_vocabulary_derived_from_an_absurd_embedding_is_an_error_not_an_overflow()
    {
        string path = Path.Combine(TestPaths.NewTempDir("gguf-vocab"), "m.gguf");
        using (var w = new GgufWriter(path))
        {
            w.AddString("general.architecture", "llama");
            w.AddUInt32("llama.embedding_length", 64);
            w.AddUInt32("llama.attention.head_count", 4);
            w.AddUInt32("llama.feed_forward_length", 96);
            w.AddUInt32("llama.block_count", 1);
            w.AddFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
            w.AddTensor("token_embd.weight", [64, 0], FormatRegistry.F32);
            w.Complete();
        }
        // Patch the embedding to [0 × 2^40]: no bytes, so the data checks pass, and a vocabulary of 2^40 rows.
        var bytes = File.ReadAllBytes(path);
        int dims = IndexOf(bytes, Encoding.UTF8.GetBytes("token_embd.weight")) + "token_embd.weight".Length + 4;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(dims), 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(dims + 8), 1UL << 40);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => GgufCheckpoint.Open(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains("1,099,511,627,776 rows", e.Message);
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void A_header_length_a_few_bytes_short_is_detected_even_when_the_header_ends_in_padding(int shortBy)
    {
        byte[] original = File.ReadAllBytes(TestPaths.TinyLlamaFile("model.safetensors"));
        int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        string header = Encoding.UTF8.GetString(original, 8, n).TrimEnd() + new string(' ', 8);
        byte[] h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8].Concat(h).Concat(original[(8 + n)..]).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(h.Length - shortBy));
        string path = Path.Combine(TestPaths.NewTempDir("st-short"), "model.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains("tile", e.Message);
        // The same padded header with its true length loads, and reads the fixture's values.
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        File.WriteAllBytes(path, bytes);
        using var ok = SafetensorsFile.Open(path);
        using var fixture = SafetensorsFile.Open(TestPaths.TinyLlamaFile("model.safetensors"));
        Assert.Equal(fixture.Tensors["model.norm.weight"].ToFloat32(), ok.Tensors["model.norm.weight"].ToFloat32());
    }

    [Fact]
    public void Trailing_bytes_after_the_last_tensor_are_detected()
    {
        string path = Path.Combine(TestPaths.NewTempDir("st-long"), "model.safetensors");
        File.WriteAllBytes(path, File.ReadAllBytes(TestPaths.TinyLlamaFile("model.safetensors")).Concat(new byte[16]).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains("tile", e.Message);
    }

    [Fact]
    public void Invalid_utf8_in_a_safetensors_header_is_an_error_naming_the_file()
    {
        string dir = TestPaths.NewTempDir("st-utf8");
        byte[] header = Encoding.UTF8.GetBytes("""{"wé": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""");
        int at = Array.IndexOf(header, (byte)0xC3);
        header[at + 1] = 0x28; // C3 28: a lead byte without its continuation
        var bytes = new byte[8 + header.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        string path = Path.Combine(dir, "bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.StartsWith(path + ": header is not valid UTF-8", e.Message);
    }

    /// <summary>The fixture (untied) with config.json saying tie_word_embeddings: true.</summary>
    private static string TiedFixture(bool headIsCopy)
    {
        string dir = RobustnessFiles.CopyFixture("tied");
        File.WriteAllText(Path.Combine(dir, "config.json"), ConfigWith("tie_word_embeddings", true));
        if (headIsCopy)
        {
            // Rewrite the weights with lm_head.weight replaced by a copy of the embedding.
            using var src = SafetensorsFile.Open(TestPaths.TinyLlamaFile("model.safetensors"));
            var declared = src.TensorList.Select(t => new TensorDeclaration(t.Name, t.Format, t.Shape)).ToList();
            string tmp = Path.Combine(dir, "model.safetensors");
            File.Delete(tmp);
            using var w = new SafetensorsWriter(tmp, declared);
            foreach (var t in src.TensorList)
            {
                var b = new byte[t.ByteLength];
                (t.Name == "lm_head.weight" ? src.Tensors["model.embed_tokens.weight"] : t).CopyTo(b);
                w.Write(b);
            }
            w.Complete();
        }
        return dir;
    }

    [Fact]
    public void A_tied_config_with_a_different_lm_head_is_refused_and_with_a_copy_is_loaded()
    {
        var e = Assert.Throws<InvalidDataException>(() => CheckpointOpener.Open(TiedFixture(headIsCopy: false)));
        Assert.Contains("tie_word_embeddings", e.Message);
        Assert.Contains("lm_head.weight", e.Message);
        using var c = CheckpointOpener.Open(TiedFixture(headIsCopy: true));
        Assert.True(c.Config.TieWordEmbeddings);
    }

    [Fact]
    public void Null_and_out_of_range_token_ids_in_a_config_are_handled()
    {
        Assert.Empty(LlamaConfig.Parse(ConfigWith("eos_token_id", null)).EosTokenIds);
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.Parse(ConfigWith("bos_token_id", 1_000_000), "c.json"));
        Assert.Contains("outside the vocabulary", e.Message);
        Assert.Throws<InvalidDataException>(() => LlamaConfig.Parse(ConfigWith("eos_token_id", 1e30), "c.json"));
    }
}
