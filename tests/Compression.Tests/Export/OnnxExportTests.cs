// ONNX export of the fixture: run in ONNX Runtime (plain, and GenAI with its KV cache), compared with the workbench's
// own forward on the same formats — ONNX Runtime's kernels are the independent implementation here.
using System.Text.Json;
using Compression.Checkpoints;
using Compression.Export.Onnx;
using Compression.Model;
using Compression.Quantization;
using Compression.Tests.Model;

namespace Compression.Tests.Export;

public class OnnxExportTests
{
    private static LlamaConfig Config => LlamaConfig.Load(TestPaths.TinyLlamaFile("config.json"));
    private static QuantizationPolicy F32Policy => new() { Format = FormatRegistry.F32, KeepFormat = FormatRegistry.F32 };

    private static string Export(QuantizationPolicy policy, int accuracyLevel = 0, string input = "", int block = 128)
    {
        string dir = Path.Combine(TestPaths.NewTempDir("onnx"), "model");
        using var checkpoint = CheckpointOpener.Open(input == "" ? TestPaths.TinyLlama : TestPaths.TinyLlamaFile(input));
        OnnxExporter.Write(checkpoint, s => policy.Choose(s), dir, new OnnxExportOptions { ContextLength = 256, AccuracyLevel = accuracyLevel, Block = block });
        return dir;
    }

    /// <summary>The workbench's logits for the fixture prompt: f32, or the in-memory packed model of <paramref name="policy"/>.</summary>
    private static float[,] WorkbenchLogits(QuantizationPolicy? policy)
    {
        using var input = CheckpointOpener.Open(TestPaths.TinyLlama);
        using var model = ModelLoader.Load(input);
        if (policy is null) return model.Logits(ReferenceLogits.PromptTokens);
        using var q = ModelQuantizer.Apply(model, policy);
        return q.Logits(ReferenceLogits.PromptTokens);
    }

    private static double TopAgreement(float[,] a, float[,] b)
    {
        int same = 0, n = a.GetLength(0);
        for (int i = 0; i < n; i++) if (ReferenceLogits.ArgMax(a, i) == ReferenceLogits.ArgMax(b, i)) same++;
        return (double)same / n;
    }

    [Theory]
    [InlineData("")]                // safetensors folder
    [InlineData("model-f32.gguf")]  // GGUF: Q/K rows un-permuted on read, rope_freqs baked into the caches
    public void F32_export_matches_the_workbench_and_numpy(string input)
    {
        string dir = Export(F32Policy, input: input);
        var ort = OnnxRuntimeRunner.Prefill(dir, Config, ReferenceLogits.PromptTokens);
        double diff = ReferenceLogits.MaxAbsDiff(ort, WorkbenchLogits(null));
        double numpy = ReferenceLogits.MaxAbsDiff(ort, ReferenceLogits.Load("numpy.full"));
        // Measured 4e-6 and 5e-6 (float32 summation order).
        Assert.True(diff <= 1e-4, $"f32 ONNX vs workbench max |Δ| = {diff:G3}");
        Assert.True(numpy <= 1e-4, $"f32 ONNX vs numpy float64 max |Δ| = {numpy:G3}");
    }

    /// <summary>
    /// accuracy_level 0: MatMulNBits dequantizes and multiplies in float32, as the workbench's prefill does, and the
    /// exported blocks hold exactly the workbench's codes and scales, so the logits agree to float rounding (measured
    /// 5.6e-6 … 9.5e-6) while each format moves the logits by 0.1–1.9 from f32 — a wrong nibble order, block
    /// layout or zero point would show as an error of that size.
    /// </summary>
    [Theory]
    [InlineData("int4")]
    [InlineData("int4_g32")]
    [InlineData("int8")]
    [InlineData("q4_0")]
    [InlineData("q8_0")]
    public void Quantized_export_matches_the_workbench_packed_model(string format)
    {
        var policy = QuantizationPolicy.Default(FormatRegistry.Get(format));
        var ort = OnnxRuntimeRunner.Prefill(Export(policy), Config, ReferenceLogits.PromptTokens);
        var workbench = WorkbenchLogits(policy);
        double diff = ReferenceLogits.MaxAbsDiff(ort, workbench);
        double gap = ReferenceLogits.MaxAbsDiff(workbench, ReferenceLogits.Load("numpy.full"));
        Assert.True(gap >= 0.05, $"{format}: the packed model is only {gap:G3} from f32 — was it quantized?");
        Assert.True(diff <= 1e-4, $"{format}: ONNX (accuracy_level 0) vs workbench max |Δ| = {diff:G3} (quantization gap {gap:G3})");
    }

    /// <summary>
    /// --pure: the embedding is quantized too; q4_0 goes through GatherBlockQuantized (the same blocks as MatMulNBits,
    /// [V, H/2] bytes, default zero point 8); int4 (float zero points, which GatherBlockQuantized refuses) and 8-bit
    /// formats are looked up from a float32 table of the same values. The LM head
    /// is a MatMulNBits node. Against the workbench's pure model (PackedEmbedding + packed head).
    /// </summary>
    [Theory]
    [InlineData("q4_0")]
    [InlineData("int4")]
    [InlineData("int4_g32")]
    [InlineData("q8_0")]
    public void Pure_export_with_a_quantized_embedding_matches_the_workbench(string format)
    {
        var policy = QuantizationPolicy.PureOf(FormatRegistry.Get(format));
        string dir = Export(policy);
        var graph = Compression.Export.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "model.onnx"))).Graph;
        Assert.Equal(format == "q4_0" ? "GatherBlockQuantized" : "Gather", graph.Node.Single(n => n.Name.StartsWith("/model/embed_tokens/")).OpType);
        Assert.Equal("MatMulNBits", graph.Node.Single(n => n.Name.StartsWith("/lm_head/") && n.OpType != "Identity").OpType);
        var ort = OnnxRuntimeRunner.Prefill(dir, Config, ReferenceLogits.PromptTokens);
        var workbench = WorkbenchLogits(policy);
        double diff = ReferenceLogits.MaxAbsDiff(ort, workbench);
        Assert.True(diff <= 1e-4, $"{format} pure: ONNX vs workbench max |Δ| = {diff:G3}");
    }

    /// <summary>
    /// int8's per-row scale repeated over MatMulNBits blocks of 256: rows of 128 and 384 leave the last block part
    /// empty, padded with the code for 0 (128) — still the workbench's weights exactly.
    /// </summary>
    [Fact]
    public void Int8_rows_shorter_than_a_whole_number_of_blocks_are_padded_with_zeros()
    {
        var policy = QuantizationPolicy.Default(FormatRegistry.Get("int8"));
        var ort = OnnxRuntimeRunner.Prefill(Export(policy, block: 256), Config, ReferenceLogits.PromptTokens);
        double diff = ReferenceLogits.MaxAbsDiff(ort, WorkbenchLogits(policy));
        Assert.True(diff <= 1e-4, $"int8 block 256: ONNX vs workbench max |Δ| = {diff:G3}");
    }

    /// <summary>
    /// accuracy_level 4 quantizes activations to int8 inside MatMulNBits. Measured max |Δ| against the workbench's
    /// float prefill: int8 0.156, q4_0 0.119, q8_0 0.144 (the same size as llama.cpp's Q8 activations give, see
    /// QuantizedForwardTests); int4 with float zero points runs ONNX Runtime's float path at any level (9.5e-6).
    /// </summary>
    [Theory]
    [InlineData("int8", 0.25)]
    [InlineData("q4_0", 0.25)]
    [InlineData("q8_0", 0.25)]
    [InlineData("int4", 1e-4)]
    public void Accuracy_level_4_stays_within_its_measured_bound(string format, double bound)
    {
        var policy = QuantizationPolicy.Default(FormatRegistry.Get(format));
        var ort = OnnxRuntimeRunner.Prefill(Export(policy, accuracyLevel: 4), Config, ReferenceLogits.PromptTokens);
        var workbench = WorkbenchLogits(policy);
        double diff = ReferenceLogits.MaxAbsDiff(ort, workbench);
        Assert.True(diff <= bound, $"{format}: ONNX (accuracy_level 4) vs workbench max |Δ| = {diff:G3} > {bound}");
        Assert.True(TopAgreement(ort, workbench) >= 0.9, $"{format}: top-1 agreement {TopAgreement(ort, workbench):P0}");
    }

    /// <summary>GenAI: prompt prefill, then one token at a time through its shared KV buffer — agrees with one full prefill (measured ≤ 5.4e-6).</summary>
    [Theory]
    [InlineData("f32")]
    [InlineData("int4")]
    public void GenAi_decode_through_the_kv_cache_agrees_with_full_prefill(string format)
    {
        var policy = format == "f32" ? F32Policy : QuantizationPolicy.Default(FormatRegistry.Get(format));
        string dir = Export(policy);
        var tokens = ReferenceLogits.PromptTokens;
        var full = OnnxRuntimeRunner.Prefill(dir, Config, tokens);
        var incremental = OnnxRuntimeRunner.GenAiIncremental(dir, Config.VocabSize, tokens, ReferenceLogits.IncrementalSplit);
        double diff = ReferenceLogits.MaxAbsDiff(incremental, full);
        Assert.True(diff <= 1e-4, $"{format}: GenAI incremental vs full prefill max |Δ| = {diff:G3}");
    }

    [Fact]
    public void Folder_holds_genai_config_tokenizer_and_external_data()
    {
        string dir = Export(QuantizationPolicy.Default(FormatRegistry.Get("int4")));
        foreach (var f in new[] { "model.onnx", "model.onnx.data", "genai_config.json", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), $"{f} missing");
        Assert.Equal(File.ReadAllBytes(TestPaths.TinyLlamaFile("tokenizer.json")), File.ReadAllBytes(Path.Combine(dir, "tokenizer.json")));
        // The graph file holds structure only: every weight above 1 KiB is in model.onnx.data.
        Assert.True(new FileInfo(Path.Combine(dir, "model.onnx")).Length < 64 * 1024);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "genai_config.json")));
        var decoder = doc.RootElement.GetProperty("model").GetProperty("decoder");
        Assert.Equal(Config.NumLayers, decoder.GetProperty("num_hidden_layers").GetInt32());
        Assert.Equal(Config.NumKeyValueHeads, decoder.GetProperty("num_key_value_heads").GetInt32());
        Assert.Equal(Config.HeadDim, decoder.GetProperty("head_size").GetInt32());
        Assert.Equal("past_key_values.%d.key", decoder.GetProperty("inputs").GetProperty("past_key_names").GetString());
        Assert.Equal(256, doc.RootElement.GetProperty("search").GetProperty("max_length").GetInt32());
    }

    [Fact]
    public void A_format_matmulnbits_cannot_hold_is_refused_before_writing()
    {
        string parent = TestPaths.NewTempDir("onnx-bad");
        var policy = QuantizationPolicy.Default(FormatRegistry.Get("q1_0"));
        using var input = CheckpointOpener.Open(TestPaths.TinyLlama);
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Write(input, s => policy.Choose(s), Path.Combine(parent, "m")));
        Assert.Contains("q1_0", e.Message);
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(parent));
    }

    [Fact]
    public void An_unrelated_existing_folder_is_not_replaced()
    {
        string dir = TestPaths.NewTempDir("onnx-keep");
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        using var input = CheckpointOpener.Open(TestPaths.TinyLlama);
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.Write(input, s => F32Policy.Choose(s), dir, new OnnxExportOptions { ContextLength = 16 }));
        Assert.Contains(dir, e.Message);
        Assert.True(File.Exists(Path.Combine(dir, "notes.txt")));
        Assert.Single(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(dir)!).Where(p => p.StartsWith(dir, StringComparison.Ordinal)));
    }
}
