// Tests for SyntheticCheckpoint: determinism across sharding, tied configs, bf16 storage, value statistics, sizes.
using Compression.Checkpoints;
using Compression.Checkpoints.Safetensors;
using Compression.Model;
using Compression.Quantization;
using Compression.Quantization.Formats;
using static Compression.Tests.Checkpoints.SafetensorsTestFiles;

namespace Compression.Tests.Checkpoints;

public class SafetensorsSyntheticTests
{
    private static byte[] Bytes(StoredTensor t)
    {
        var b = new byte[t.ByteLength];
        t.CopyTo(b);
        return b;
    }

    [Fact]
    public void Sharded_and_single_file_synths_of_one_seed_hold_identical_tensors()
    {
        var config = SmallConfig();
        string single = TestPaths.NewTempDir("syn"), sharded = TestPaths.NewTempDir("syn");
        var reports = new List<(int done, int total, string name)>();
        SyntheticCheckpoint.Write(config, single, FormatRegistry.F32, SyntheticCheckpoint.ParseSize("5GB"), seed: 7);
        SyntheticCheckpoint.Write(config, sharded, FormatRegistry.F32, 30_000, seed: 7, new SyncProgress(reports.Add));

        Assert.True(File.Exists(Path.Combine(single, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(single, "model.safetensors.index.json")));
        Assert.True(File.Exists(Path.Combine(sharded, "model.safetensors.index.json")));
        var expected = LlamaTensorLayout.Expected(config);
        Assert.Equal(expected.Count, reports.Count);
        Assert.Equal((expected.Count, expected.Count, "lm_head.weight"), reports[^1]);

        using var a = SafetensorsCheckpoint.Open(single);
        using var b = SafetensorsCheckpoint.Open(sharded);
        Assert.Single(a.Shards);
        Assert.True(b.Shards.Count >= 4, $"expected several shards, got {b.Shards.Count}");
        Assert.Equal(a.Config.ToJson(), b.Config.ToJson());
        Assert.Equal("float32", a.Config.TorchDtype);
        foreach (var spec in expected) Assert.Equal(Bytes(a[spec.Name]), Bytes(b[spec.Name]));
        Assert.Equal(LlamaTensorLayout.ParameterCount(config) * 4, b.TensorBytes);
    }

    [Fact]
    public void Weights_are_normal_with_std_002_norms_are_one_and_seeds_differ()
    {
        var config = SmallConfig();
        string dir = TestPaths.NewTempDir("syn"), other = TestPaths.NewTempDir("syn");
        SyntheticCheckpoint.Write(config, dir, FormatRegistry.F32, 1L << 30, seed: 1);
        SyntheticCheckpoint.Write(config, other, FormatRegistry.F32, 1L << 30, seed: 2);
        using var ckpt = SafetensorsCheckpoint.Open(dir);
        using var ckpt2 = SafetensorsCheckpoint.Open(other);

        var e = ckpt["model.embed_tokens.weight"].ToFloat32(); // 16384 values
        double mean = e.Average(x => (double)x);
        double std = Math.Sqrt(e.Average(x => (x - mean) * (x - mean)));
        Assert.InRange(mean, -0.001, 0.001);           // 4.5 standard errors
        Assert.InRange(std, 0.0195, 0.0205);
        double within1 = e.Count(x => Math.Abs(x) < 0.02) / (double)e.Length;
        Assert.InRange(within1, 0.672, 0.692);          // normal: 68.3 %
        Assert.All(ckpt["model.layers.0.input_layernorm.weight"].ToFloat32(), x => Assert.Equal(1f, x));
        Assert.All(ckpt["model.norm.weight"].ToFloat32(), x => Assert.Equal(1f, x));
        Assert.NotEqual(Bytes(ckpt["model.layers.0.self_attn.q_proj.weight"]), Bytes(ckpt2["model.layers.0.self_attn.q_proj.weight"]));
        // Tensors of one seed are distinct streams, not copies of one another.
        Assert.NotEqual(Bytes(ckpt["model.layers.0.mlp.gate_proj.weight"]), Bytes(ckpt["model.layers.0.mlp.up_proj.weight"]));
    }

    [Fact]
    public void Tied_config_has_no_lm_head_and_loads()
    {
        var config = SmallConfig(tied: true);
        string dir = TestPaths.NewTempDir("syn");
        SyntheticCheckpoint.Write(config, dir, FormatRegistry.F16, 1L << 30);
        using var ckpt = SafetensorsCheckpoint.Open(dir);
        Assert.True(ckpt.Config.TieWordEmbeddings);
        Assert.False(ckpt.Tensors.ContainsKey("lm_head.weight"));
        Assert.Equal(LlamaTensorLayout.Expected(config).Count, ckpt.Tensors.Count);
        Assert.Equal("float16", ckpt.Config.TorchDtype);
        Assert.All(ckpt.Tensors.Values, t => Assert.Same(FormatRegistry.F16, t.Format));
    }

    [Fact]
    public void Bf16_storage_holds_the_rounded_f32_values_of_the_same_seed()
    {
        var config = SmallConfig();
        string f32 = TestPaths.NewTempDir("syn"), bf16 = TestPaths.NewTempDir("syn");
        SyntheticCheckpoint.Write(config, f32, FormatRegistry.F32, 1L << 30, seed: 3);
        SyntheticCheckpoint.Write(config, bf16, FormatRegistry.BF16, 25_000, seed: 3);
        using var a = SafetensorsCheckpoint.Open(f32);
        using var b = SafetensorsCheckpoint.Open(bf16);
        Assert.Equal("bfloat16", b.Config.TorchDtype);
        Assert.Equal(a.TensorBytes / 2, b.TensorBytes);
        foreach (var name in new[] { "model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight", "model.norm.weight" })
        {
            Assert.Same(FormatRegistry.BF16, b[name].Format);
            var expected = a[name].ToFloat32().Select(x => BF16Format.ToFloat(BF16Format.FromFloat(x)));
            Assert.Equal(expected, b[name].ToFloat32());
        }
    }

    [Fact]
    public void Rewriting_a_directory_replaces_the_old_layout()
    {
        var config = SmallConfig();
        string dir = TestPaths.NewTempDir("syn");
        SyntheticCheckpoint.Write(config, dir, FormatRegistry.F32, 30_000);
        Assert.NotEmpty(Directory.GetFiles(dir, "model-*-of-*.safetensors"));
        SyntheticCheckpoint.Write(config, dir, FormatRegistry.BF16, 1L << 30);
        Assert.Equal(["config.json", "model.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
        using var ckpt = SafetensorsCheckpoint.Open(dir);
        Assert.Same(FormatRegistry.BF16, ckpt["lm_head.weight"].Format);
    }

    [Fact]
    public void Formats_safetensors_cannot_hold_are_rejected()
    {
        var q = new FakeQuantFormat();
        var ex = Assert.Throws<ArgumentException>(() => SyntheticCheckpoint.Write(SmallConfig(), TestPaths.NewTempDir("syn"), q, 1000));
        Assert.Contains("F32, F16, BF16", ex.Message);
    }

    [Theory]
    [InlineData("123", 123L)]
    [InlineData("5GB", 5_000_000_000L)]
    [InlineData("500MB", 500_000_000L)]
    [InlineData("2GiB", 2L << 30)]
    [InlineData("1.5 gb", 1_500_000_000L)]
    [InlineData("10KiB", 10_240L)]
    [InlineData(" 7b ", 7L)]
    public void ParseSize_accepts_decimal_and_binary_units(string text, long bytes) =>
        Assert.Equal(bytes, SyntheticCheckpoint.ParseSize(text));

    [Theory]
    [InlineData("")]
    [InlineData("GB")]
    [InlineData("5 parsecs")]
    [InlineData("-5GB")]
    [InlineData("0")]
    [InlineData("1e9")]
    [InlineData("99999999999999999999TB")]
    public void ParseSize_rejects_garbage_clearly(string text)
    {
        var ex = Assert.Throws<FormatException>(() => SyntheticCheckpoint.ParseSize(text));
        Assert.Contains($"'{text}'", ex.Message);
        Assert.Contains("5GB", ex.Message);
    }

    /// <summary>IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<(int, int, string)> report) : IProgress<(int done, int total, string name)>
    {
        public void Report((int done, int total, string name) value) => report(value);
    }

    /// <summary>A quantized format that has no safetensors dtype.</summary>
    private sealed class FakeQuantFormat : TensorFormat
    {
        public override string Name => "fake4";
        public override int BlockSize => 32;
        public override int BytesPerBlock => 18;
        public override int NominalBits => 4;
        public override string Description => "test only";
        public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst) => throw new NotSupportedException();
        public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst) => throw new NotSupportedException();
    }
}
