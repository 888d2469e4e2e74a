// The shipped proxy: its files match its manifest, the manifest's recipe is the one `compress train` runs, and a modified,
// missing or unlisted file is refused with one line naming it — before anything is generated or loaded.
using System.Text.Json;
using System.Text.Json.Nodes;
using Compression.Checkpoints;
using Compression.Model;
using Compression.Training;

namespace Compression.Tests.Training;

public sealed class ShippedModelTests : IDisposable
{
    private readonly string _temp = TestPaths.NewTempDir("shipped");

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public void The_shipped_proxy_matches_its_manifest()
    {
        var files = ShippedModel.Verify(RepoPaths.ShippedProxy);
        Assert.Equal(["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training.json"], files.Select(f => f.Path));
        Assert.True(files.Sum(f => f.Bytes) < 20_000_000, $"{files.Sum(f => f.Bytes):N0} bytes");

        // It is the model `compress train --preset proxy` makes: the proxy preset's shape, trained with TrainingOptions.Proxy.
        var config = LlamaConfig.Load(Path.Combine(RepoPaths.ShippedProxy, "config.json"));
        var preset = LlamaConfig.Preset("proxy");
        Assert.Equal((preset.HiddenSize, preset.IntermediateSize, preset.NumLayers, preset.NumHeads, preset.NumKeyValueHeads, preset.VocabSize),
            (config.HiddenSize, config.IntermediateSize, config.NumLayers, config.NumHeads, config.NumKeyValueHeads, config.VocabSize));
        var manifest = ShippedModel.ReadManifest(RepoPaths.ShippedProxy);
        var recipe = manifest["recipe"]!["training_options"]!.AsObject();
        var expected = JsonSerializer.SerializeToNode(TrainingOptions.Proxy with { Config = config })!;
        Assert.True(JsonNode.DeepEquals(expected, recipe), $"recipe differs from TrainingOptions.Proxy:\n{recipe}\nexpected\n{expected}");
        Assert.Equal(TrainingOptions.Proxy.TotalSteps, manifest["training"]!["steps"]!.GetValue<int>());
        Assert.Contains("ATEN_CPU_CAPABILITY=avx2", manifest["recipe"]!["native_cpu_pins"]!.GetValue<string>());

        // And it loads: every weight of the proxy's layout is there.
        using var checkpoint = CheckpointOpener.Open(RepoPaths.ShippedProxy);
        Assert.Equal(LlamaTensorLayout.ParameterCount(config), checkpoint.Tensors.Values.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)));
    }

    // A shipped model made from the tiny-llama3 fixture, so these tests do not depend on the real artifact.
    private string Ship()
    {
        string dir = Path.Combine(_temp, "model");
        ShippedModel.Write(dir, new[] { "config.json", "model.safetensors", "tokenizer.json" }.Select(TestPaths.TinyLlamaFile).ToList(),
            new JsonObject { ["name"] = "tiny" });
        return dir;
    }

    [Fact]
    public void Written_manifests_list_every_file_with_its_sha256()
    {
        string dir = Ship();
        var files = ShippedModel.Verify(dir);
        Assert.Equal(["config.json", "model.safetensors", "tokenizer.json"], files.Select(f => f.Path));
        // Independent of the writer: the digest of the fixture file itself.
        using var sha = System.Security.Cryptography.SHA256.Create();
        string expected = Convert.ToHexStringLower(sha.ComputeHash(File.ReadAllBytes(TestPaths.TinyLlamaFile("model.safetensors"))));
        Assert.Equal(expected, files.Single(f => f.Path == "model.safetensors").Sha256);
        Assert.Equal("tiny", ShippedModel.ReadManifest(dir)["name"]!.GetValue<string>());
    }

    [Fact]
    public void A_modified_file_is_refused_with_one_line_naming_it()
    {
        string dir = Ship();
        string weights = Path.Combine(dir, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0x01; // one bit of the last weight
        File.WriteAllBytes(weights, bytes);

        var e = Assert.Throws<InvalidDataException>(() => ShippedModel.Verify(dir));
        Assert.StartsWith(weights + ":", e.Message);
        Assert.Contains("modified", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // The preset refuses it the same way, before writing any corpus.
        string cache = Path.Combine(_temp, "cache");
        Assert.Equal(e.Message, Assert.Throws<InvalidDataException>(() => ProxyModel.Resolve(cache, dir)).Message);
        Assert.False(Directory.Exists(cache));
    }

    [Fact]
    public void A_missing_an_unlisted_or_a_malformed_entry_is_refused()
    {
        string dir = Ship();
        File.WriteAllText(Path.Combine(dir, "extra.safetensors"), "x");
        Assert.Contains("not listed", Assert.Throws<InvalidDataException>(() => ShippedModel.Verify(dir)).Message);
        File.Delete(Path.Combine(dir, "extra.safetensors"));

        File.Delete(Path.Combine(dir, "tokenizer.json"));
        Assert.Contains("missing", Assert.Throws<InvalidDataException>(() => ShippedModel.Verify(dir)).Message);

        string manifest = Path.Combine(dir, ShippedModel.ManifestFileName);
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"tokenizer.json\"", "\"../tokenizer.json\""));
        Assert.Contains("not a plain file name", Assert.Throws<InvalidDataException>(() => ShippedModel.Verify(dir)).Message);

        File.Delete(manifest);
        Assert.Throws<FileNotFoundException>(() => ShippedModel.Verify(dir));
    }
}
