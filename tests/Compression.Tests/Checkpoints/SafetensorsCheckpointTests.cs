// Tests for SafetensorsCheckpoint: the fixture directory, path forms, and every way a checkpoint can be broken.
using System.Text.Json.Nodes;
using Compression.Checkpoints.Safetensors;
using Compression.Model;
using Compression.Quantization;
using static Compression.Tests.Checkpoints.SafetensorsTestFiles;

namespace Compression.Tests.Checkpoints;

public class SafetensorsCheckpointTests
{
    [Fact]
    public void Fixture_checkpoint_has_every_expected_tensor()
    {
        using var ckpt = SafetensorsCheckpoint.Open(TestPaths.TinyLlama);
        Assert.Equal("safetensors", ckpt.Kind);
        Assert.Equal(128, ckpt.Config.HiddenSize);
        var expected = LlamaTensorLayout.Expected(ckpt.Config);
        Assert.Equal(expected.Select(s => s.Name).Order(), ckpt.Tensors.Keys.Order());
        foreach (var spec in expected) Assert.Equal(spec.Shape, ckpt[spec.Name].Shape);
        Assert.Equal(LlamaTensorLayout.ParameterCount(ckpt.Config) * 4, ckpt.TensorBytes);
        Assert.Equal(TestPaths.TinyLlamaFile("tokenizer.json"), ckpt.TokenizerJsonPath);
        Assert.Single(ckpt.Shards);
        Assert.Equal(1.1434156894683838f, ckpt["model.norm.weight"].ToFloat32()[7]);
    }

    [Fact]
    public void Opens_from_the_safetensors_file_too()
    {
        using var ckpt = SafetensorsCheckpoint.Open(TestPaths.TinyLlamaFile("model.safetensors"));
        Assert.Equal(21, ckpt.Tensors.Count);
        var ex = Assert.Throws<InvalidDataException>(() => ckpt["nope"]);
        Assert.Contains("'nope'", ex.Message);
    }

    /// <summary>Copies the fixture's config and weights into a scratch directory to be damaged.</summary>
    private static string FixtureCopy()
    {
        string dir = TestPaths.NewTempDir("stc");
        foreach (var f in new[] { "config.json", "model.safetensors" }) File.Copy(TestPaths.TinyLlamaFile(f), Path.Combine(dir, f));
        return dir;
    }

    private static InvalidDataException Fails(string path, params string[] fragments)
    {
        var ex = Assert.Throws<InvalidDataException>(() => SafetensorsCheckpoint.Open(path).Dispose());
        foreach (var f in fragments) Assert.Contains(f, ex.Message);
        return ex;
    }

    [Fact]
    public void Config_missing_a_required_field()
    {
        string dir = FixtureCopy();
        string config = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        json.Remove("hidden_size");
        File.WriteAllText(config, json.ToJsonString());
        Fails(dir, config, "hidden_size");
    }

    [Fact]
    public void Config_missing_altogether()
    {
        string dir = FixtureCopy();
        File.Delete(Path.Combine(dir, "config.json"));
        Fails(dir, Path.Combine(dir, "config.json"), "not found");
    }

    [Fact]
    public void Directory_without_weights()
    {
        string dir = TestPaths.NewTempDir("stc");
        File.Copy(TestPaths.TinyLlamaFile("config.json"), Path.Combine(dir, "config.json"));
        Fails(dir, dir, "model.safetensors");
    }

    [Fact]
    public void Tensor_of_wrong_shape_for_the_config()
    {
        string dir = FixtureCopy();
        string config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"intermediate_size\": 384", "\"intermediate_size\": 256"));
        Fails(dir, dir, "model.layers.0.mlp.gate_proj.weight", "[384, 128]", "[256, 128]");
    }

    [Fact]
    public void Tensor_missing_from_the_weights()
    {
        string dir = TestPaths.NewTempDir("stc");
        var config = SmallConfig();
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJson());
        var decl = LlamaTensorLayout.Expected(config).Where(s => s.Name != "model.layers.1.self_attn.v_proj.weight")
            .Select(s => new TensorDeclaration(s.Name, FormatRegistry.F32, s.Shape)).ToList();
        using (var w = new SafetensorsWriter(Path.Combine(dir, "model.safetensors"), decl))
        {
            w.Write(new byte[decl.Sum(d => d.ByteLength)]);
            w.Complete();
        }
        Fails(dir, dir, "'model.layers.1.self_attn.v_proj.weight'", "missing");
    }

    [Fact]
    public void Malformed_weights_file_is_named()
    {
        string dir = FixtureCopy();
        string weights = Path.Combine(dir, "model.safetensors");
        using (var f = File.OpenWrite(weights)) f.SetLength(5000); // truncated in the data region
        Fails(dir, weights, "beyond the data region");
    }

    /// <summary>A small sharded synthetic checkpoint (several shards plus an index).</summary>
    private static string ShardedDir()
    {
        string dir = TestPaths.NewTempDir("stc");
        SyntheticCheckpoint.Write(SmallConfig(), dir, FormatRegistry.F16, maxShardBytes: 20_000);
        return dir;
    }

    [Fact]
    public void Missing_shard_names_the_index_and_the_shard()
    {
        string dir = ShardedDir();
        string shard = Directory.GetFiles(dir, "model-*-of-*.safetensors").Order().Last();
        File.Delete(shard);
        Fails(dir, Path.Combine(dir, "model.safetensors.index.json"), Path.GetFileName(shard), "missing");
    }

    [Fact]
    public void Weight_map_naming_a_tensor_its_shard_lacks()
    {
        string dir = ShardedDir();
        string index = Path.Combine(dir, "model.safetensors.index.json");
        var json = JsonNode.Parse(File.ReadAllText(index))!;
        var map = json["weight_map"]!.AsObject();
        string first = map["model.embed_tokens.weight"]!.GetValue<string>();
        string other = map["model.norm.weight"]!.GetValue<string>();
        Assert.NotEqual(first, other);
        map["model.norm.weight"] = first;
        File.WriteAllText(index, json.ToJsonString());
        Fails(dir, index, "'model.norm.weight'", first, "does not contain it");
    }

    [Fact]
    public void Weight_map_may_not_point_outside_the_directory()
    {
        string dir = ShardedDir();
        string index = Path.Combine(dir, "model.safetensors.index.json");
        var json = JsonNode.Parse(File.ReadAllText(index))!;
        json["weight_map"]!["model.norm.weight"] = "../elsewhere.safetensors";
        File.WriteAllText(index, json.ToJsonString());
        Fails(index, index, "not a plain file name");
    }

    [Fact]
    public void Dispose_unmaps_every_shard_so_files_can_be_deleted()
    {
        string dir = ShardedDir();
        var ckpt = SafetensorsCheckpoint.Open(dir);
        Assert.True(ckpt.Shards.Count > 2);
        Assert.Null(ckpt.TokenizerJsonPath);
        ckpt.Dispose();
        Directory.Delete(dir, recursive: true);
        Assert.False(Directory.Exists(dir));
    }
}
