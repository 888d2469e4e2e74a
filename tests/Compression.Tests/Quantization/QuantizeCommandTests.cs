// QuantizeCommandTests: `compress quantize` end to end on the fixture — llama-quantize's bytes, policies, overrides,
// clear errors, cancellation.
using System.CommandLine;
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Cli.Commands;
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using Compression.Tests.Model;

namespace Compression.Tests.Quantization;

public class QuantizeCommandTests
{
    private static readonly string F32Gguf = TestPaths.TinyLlamaFile("model-f32.gguf");

    /// <summary>Runs `compress quantize ARGS` in-process through a System.CommandLine root, as Program.cs does.</summary>
    private static int Invoke(params string[] args)
    {
        var root = new RootCommand { QuantizeCommand.Create() };
        return root.Parse(["quantize", .. args]).Invoke();
    }

    private static void AssertSameTensorData(string expectedPath, string actualPath)
    {
        using var expected = GgufFile.Open(expectedPath);
        using var actual = GgufFile.Open(actualPath);
        Assert.Equal(expected.Tensors.Select(t => (t.Name, t.GgmlType)), actual.Tensors.Select(t => (t.Name, t.GgmlType)));
        foreach (var (e, a) in expected.Tensors.Zip(actual.Tensors))
            Assert.True(expected.Mapped.Span(e.Offset, (int)e.ByteLength).SequenceEqual(actual.Mapped.Span(a.Offset, (int)a.ByteLength)), $"{e.Name} differs");
    }

    private static float[,] Logits(string path)
    {
        using var s = ModelSession.Open(path, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        return s.Model.Logits(ReferenceLogits.PromptTokens);
    }

    [Theory]
    [InlineData("q8_0", true)]
    [InlineData("q4_0", true)]
    [InlineData("q1_0", false)] // the fixture's header says file_type 7; ours names no q1_0 file type
    public void Pure_output_reproduces_llama_quantize_and_runs(string format, bool wholeFile)
    {
        string outPath = Path.Combine(TestPaths.NewTempDir("quantize-cmd"), $"out-{format}.gguf");
        Assert.Equal(0, Invoke("--model", F32Gguf, "--format", format, "--pure", "--out", outPath));
        string reference = TestPaths.TinyLlamaFile($"model-{format}.gguf");
        AssertSameTensorData(reference, outPath);
        if (wholeFile) Assert.Equal(File.ReadAllBytes(reference), File.ReadAllBytes(outPath));
        Assert.Equal(0, ReferenceLogits.MaxAbsDiff(Logits(outPath), Logits(reference)));
    }

    [Fact]
    public void Hf_directory_input_gives_the_same_tensor_data()
    {
        string outPath = Path.Combine(TestPaths.NewTempDir("quantize-cmd"), "from-hf.gguf");
        Assert.Equal(0, Invoke("-m", TestPaths.TinyLlama, "-f", "q4_0", "--pure", "-o", outPath));
        AssertSameTensorData(TestPaths.TinyLlamaFile("model-q4_0.gguf"), outPath);
    }

    [Fact]
    public void Default_policy_keeps_embeddings_and_output_f16_and_overrides_take_effect()
    {
        string dir = TestPaths.NewTempDir("quantize-cmd");
        string plain = Path.Combine(dir, "default.gguf"), custom = Path.Combine(dir, "custom.gguf");
        Assert.Equal(0, Invoke("-m", F32Gguf, "-f", "q8_0", "-o", plain));
        using (var g = GgufCheckpoint.Open(plain))
        {
            foreach (var t in g.File.Tensors)
            {
                string expected = t.Dimensions.Length == 1 ? "f32" : t.Name is "token_embd.weight" or "output.weight" ? "f16" : "q8_0";
                Assert.True(expected == t.Format.Name, $"{t.Name}: {t.Format.Name}, expected {expected}");
            }
            Assert.Equal(7u, g.File.GetUInt32("general.file_type")); // MOSTLY_Q8_0
            Assert.Equal(2u, g.File.GetUInt32("general.quantization_version"));
        }
        Assert.Equal(0, Invoke("-m", F32Gguf, "-f", "q8_0", "-o", custom, "--tensor-type", "ffn_down=q4_0", "--tensor-type", @"blk\.1\.attn_q=q1_0",
            "--quantize-lm-head", "--keep-embeddings-format", "bf16"));
        using (var g = GgufCheckpoint.Open(custom))
        {
            foreach (var t in g.File.Tensors.Where(t => t.Dimensions.Length == 2))
            {
                string expected = t.Name.Contains("ffn_down") ? "q4_0" : t.Name == "blk.1.attn_q.weight" ? "q1_0"
                    : t.Name == "token_embd.weight" ? "bf16" : "q8_0";
                Assert.True(expected == t.Format.Name, $"{t.Name}: {t.Format.Name}, expected {expected}");
            }
        }
        var logits = Logits(custom);
        Assert.True(ReferenceLogits.MaxAbsDiff(logits, ReferenceLogits.Load("numpy.full")) < 5); // loads and runs
    }

    [Theory]
    [InlineData("tq2_0", 37u)]
    [InlineData("tq1_0", 36u)]
    public void Ternary_formats_are_written_where_rows_hold_256_and_refused_clearly_where_none_do(string format, uint fileType)
    {
        var f = FormatRegistry.Get(format);
        string dir = TestPaths.NewTempDir("quantize-cmd");
        string outPath = Path.Combine(dir, $"proxy-{format}.gguf");
        Assert.Equal(0, Invoke("-m", ProxyGguf.Directory, "-f", format, "--pure", "-o", outPath)); // rows of 256 and 768
        using (var file = GgufFile.Open(outPath))
        {
            Assert.Equal(fileType, file.GetUInt32("general.file_type")); // llama.h LLAMA_FTYPE_MOSTLY_TQ1_0 = 36, TQ2_0 = 37
            var matrices = file.Tensors.Where(t => t.Dimensions.Length == 2).ToList();
            Assert.Equal(2 + 7 * 4, matrices.Count);
            Assert.All(matrices, t => Assert.Equal((uint)f.GgmlTypeId!, t.GgmlType));
            // The size table's accounting for this config and policy is the file's tensor bytes (rope_freqs aside).
            var config = LlamaConfig.Load(ProxyGguf.Directory);
            Assert.Equal(SizeAccounting.Measure(config, QuantizationPolicy.PureOf(f)).Bytes,
                file.Tensors.Where(t => t.Name != GgufTensorNames.RopeFrequencies).Sum(t => t.ByteLength));
        }

        // The tiny fixture's rows are 128 and 384 weights long: every matrix would fall back to f16, so the command refuses.
        var e = Assert.Throws<ArgumentException>(() =>
            QuantizeCommand.Run(new QuantizeCommand.Request(F32Gguf, format, Path.Combine(dir, "x.gguf")) { Pure = true }, null, default));
        Assert.Contains($"--format {format}", e.Message);
        Assert.Contains("blocks of 256", e.Message);
        Assert.Contains("128, 384", e.Message);
        Assert.Equal(1, Invoke("-m", F32Gguf, "-f", format, "-o", Path.Combine(dir, "x.gguf")));
        Assert.False(File.Exists(Path.Combine(dir, "x.gguf")));
    }

    [Theory]
    [InlineData("int4")]
    [InlineData("int8")]
    public void Workbench_only_format_gives_a_clear_error_and_no_file(string format)
    {
        string dir = TestPaths.NewTempDir("quantize-cmd");
        var e = Assert.Throws<ArgumentException>(() =>
            QuantizeCommand.Run(new QuantizeCommand.Request(F32Gguf, format, Path.Combine(dir, "x.gguf")), null, default));
        Assert.Contains("no GGUF type", e.Message);
        Assert.Contains(format == "int4" ? "q4_0" : "q8_0", e.Message);
        Assert.Contains($"compress eval --quantize {format}", e.Message);
        Assert.Equal(1, Invoke("-m", F32Gguf, "-f", format, "-o", Path.Combine(dir, "x.gguf")));
        var o = Assert.Throws<ArgumentException>(() => QuantizeCommand.Run(
            new QuantizeCommand.Request(F32Gguf, "q8_0", Path.Combine(dir, "y.gguf")) { TensorTypes = [$"ffn_up={format}"] }, null, default));
        Assert.Contains("--tensor-type", o.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Checkpoint_without_tokenizer_is_refused_clearly()
    {
        string dir = TestPaths.NewTempDir("quantize-cmd");
        string model = Path.Combine(dir, "model");
        Directory.CreateDirectory(model);
        foreach (var f in new[] { "config.json", "model.safetensors" }) File.Copy(TestPaths.TinyLlamaFile(f), Path.Combine(model, f));
        var e = Assert.Throws<InvalidDataException>(() =>
            QuantizeCommand.Run(new QuantizeCommand.Request(model, "q8_0", Path.Combine(dir, "x.gguf")), null, default));
        Assert.Contains("no tokenizer", e.Message);
        Assert.Contains(model, e.Message);
        Assert.Equal(1, Invoke("-m", model, "-f", "q8_0", "-o", Path.Combine(dir, "x.gguf")));
        Assert.False(File.Exists(Path.Combine(dir, "x.gguf")));
    }

    [Fact]
    public void Cancellation_leaves_no_file()
    {
        string dir = TestPaths.NewTempDir("quantize-cmd");
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.TensorIndex == 4) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            QuantizeCommand.Run(new QuantizeCommand.Request(F32Gguf, "q4_0", Path.Combine(dir, "x.gguf")), progress, cts.Token));
        Assert.Empty(Directory.GetFiles(dir));

        // Through the command: an already-cancelled invocation exits 130 and writes nothing.
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var root = new RootCommand { QuantizeCommand.Create() };
        int code = root.Parse(["quantize", "-m", F32Gguf, "-f", "q4_0", "-o", Path.Combine(dir, "y.gguf")]).InvokeAsync(cancellationToken: cancelled.Token).GetAwaiter().GetResult();
        Assert.Equal(130, code);
        Assert.Empty(Directory.GetFiles(dir));
    }

    private sealed class SyncProgress(Action<GgufExportProgress> report) : IProgress<GgufExportProgress>
    {
        public void Report(GgufExportProgress value) => report(value);
    }
}
