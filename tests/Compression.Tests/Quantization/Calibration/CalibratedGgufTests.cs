// CalibratedGgufTests: `compress quantize --method` on the fixture — the GGUF holds the method's packed blocks byte for
// byte (read back with the GGUF reader), mainline llama.cpp runs it and agrees with the workbench's own packed model,
// the method and calibration are in the metadata; clear errors and no file left behind when it cannot finish.
using Compression.Checkpoints.Gguf;
using Compression.Cli.Commands;
using Compression.Engines.LlamaCpp;
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using Compression.Quantization.Calibration;
using Compression.Quantization.Methods;
using Compression.Tests.Model;
using Xunit.Abstractions;

namespace Compression.Tests.Quantization.Calibration;

public sealed class CalibratedGgufTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string F32Gguf = TestPaths.TinyLlamaFile("model-f32.gguf");
    private static readonly LlamaCppOptions Exact = new() { Threads = 2, ContextSize = 64, BatchSize = 64, ExactAttention = true };
    private readonly string _dir = TestPaths.NewTempDir("calibrated-gguf");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string CalibrationText() => WriteCalibrationText(_dir);

    /// <summary>Paragraphs of varied English in <paramref name="dir"/>/calibration.txt, enough for 8 windows of 32 tokens with room to spare.</summary>
    internal static string WriteCalibrationText(string dir)
    {
        string[] words = ["model", "weights", "the", "quantized", "block", "of", "tokens", "llama", "runs", "fast", "and", "error", "small", "with", "data"];
        var rng = new Random(11);
        string path = Path.Combine(dir, "calibration.txt");
        File.WriteAllLines(path, Enumerable.Range(0, 60).Select(_ =>
            string.Join(' ', Enumerable.Range(0, 40).Select(_ => words[rng.Next(words.Length)])) + ".\n"));
        return path;
    }

    private QuantizeCommand.Request Request(string method, string calibration, string name) =>
        new(F32Gguf, "q4_0", Path.Combine(_dir, name)) { Method = method, Calibration = calibration, CalibrationSequences = 8, CalibrationLength = 32, Seed = 3 };

    /// <summary>The workbench's own packed model of the same method, calibration and policy (the harness's path).</summary>
    private static ModelSession PackedModel(QuantizeCommand.Request r)
    {
        var session = ModelSession.Open(F32Gguf, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        var tokenizer = session.RequireTokenizer();
        var set = CalibrationSet.Load(new CalibrationSpec(r.Calibration!, r.CalibrationSequences, r.CalibrationLength, r.Seed), t => tokenizer.Encode(t, addBos: true));
        session.ReplaceModel(CalibratedQuantizer.Apply(session.Model, QuantizeCommand.Policy(r), MethodRegistry.Get(r.Method), set.Sequences));
        return session;
    }

    [Theory]
    [InlineData("gptq")]
    [InlineData("awq")]
    [InlineData("imatrix")]
    public void The_gguf_holds_the_methods_packed_blocks_and_llama_cpp_agrees_with_them(string method)
    {
        var r = Request(method, CalibrationText(), $"tiny-{method}-q4_0.gguf");
        QuantizeCommand.Run(r, null, default);
        using var packed = PackedModel(r);
        using var written = GgufCheckpoint.Open(r.Out);
        using (var file = GgufFile.Open(r.Out))
        {
            Assert.Equal(method, file.TryGetString("compression.method"));
            Assert.Equal("calibration.txt 8×32 seed 3", file.TryGetString("compression.calibration"));
        }

        // Every linear: the GGUF reader's rows (Q/K un-permuted) are the packed model's rows, byte for byte.
        using var f32 = GgufCheckpoint.Open(F32Gguf);
        int differFromRtn = 0;
        foreach (var (name, layer) in packed.Model.LinearLayers())
        {
            var w = Assert.IsType<PackedLinear>(layer).Weight;
            var stored = written[name];
            Assert.Equal(w.Format, stored.Format);
            var rtn = new byte[w.RowBytes];
            var floats = new float[w.Cols];
            for (int row = 0; row < w.Rows; row++)
            {
                Assert.True(stored.Row(row).SequenceEqual(w.Row(row)), $"{name}: row {row} differs from the method's packed blocks");
                f32[name].ReadRows(row, 1, floats);
                w.Format.QuantizeRow(floats, rtn);
                if (!rtn.AsSpan().SequenceEqual(w.Row(row))) differFromRtn++;
            }
        }
        output.WriteLine($"{method}: {differFromRtn} rows differ from round-to-nearest of the input");
        Assert.True(differFromRtn > 0, $"{method}: every row equals round-to-nearest of the input — the method was not applied");
        // AWQ's scales live in the norms: the written norms are the folded ones.
        foreach (var (name, norm) in packed.Model.NamedNorms())
            Assert.Equal(norm.Weight.data<float>().ToArray(), written[name].ToFloat32());

        var tokens = ReferenceLogits.PromptTokens;
        var ours = packed.Model.Logits(tokens);
        using var engine = LlamaCppModel.Load(r.Out, Exact);
        var theirs = engine.Logits(tokens);
        double max = ReferenceLogits.MaxAbsDiff(ours, theirs), mean = MeanAbsDiff(ours, theirs);
        int topAgree = Enumerable.Range(0, tokens.Length).Count(i => ReferenceLogits.ArgMax(ours, i) == ReferenceLogits.ArgMax(theirs, i));
        output.WriteLine($"{method} q4_0: workbench packed model vs llama.cpp on the written GGUF: max {max:E2} mean {mean:E2}, top-1 agree {topAgree}/{tokens.Length}");
        // The bounds of the round-to-nearest q4_0 files (LlamaCppAgreementTests).
        Assert.True(max < 0.3, $"max |Δlogit| {max:E2}");
        Assert.True(mean < 0.035, $"mean |Δlogit| {mean:E2}");
        Assert.True(topAgree >= tokens.Length * 9 / 10, $"top-1 agrees on {topAgree}/{tokens.Length}");
    }

    [Fact]
    public void A_calibrated_method_without_calibration_text_is_a_clear_error()
    {
        var r = Request("gptq", CalibrationText(), "none.gguf") with { Calibration = null };
        var e = Assert.Throws<ArgumentException>(() => QuantizeCommand.Run(r, null, default));
        Assert.Contains("--method gptq needs --calibration", e.Message);
        Assert.False(File.Exists(r.Out));
    }

    [Fact]
    public void Too_little_calibration_text_is_a_clear_error_naming_the_file()
    {
        string shortText = Path.Combine(_dir, "short.txt");
        File.WriteAllText(shortText, "a few words only");
        var r = Request("gptq", shortText, "short.gguf") with { CalibrationLength = 256 };
        var e = Assert.Throws<InvalidDataException>(() => QuantizeCommand.Run(r, null, default));
        Assert.Contains(shortText, e.Message);
        Assert.Contains("too short for calibration sequences of 256 tokens", e.Message);
        Assert.Empty(Directory.GetFiles(_dir, "short.gguf*"));
    }

    [Fact]
    public void An_unknown_method_is_a_clear_error()
    {
        var r = Request("gptqq", CalibrationText(), "unknown.gguf");
        var e = Assert.Throws<ArgumentException>(() => QuantizeCommand.Run(r, null, default));
        Assert.Equal("unknown method 'gptqq'; known methods: rtn, gptq, awq, imatrix", e.Message);
    }

    [Fact]
    public void Cancelled_between_blocks_leaves_no_file()
    {
        var r = Request("gptq", CalibrationText(), "cancelled.gguf");
        using var cts = new CancellationTokenSource();
        int blocks = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => QuantizeCommand.Run(r, null, cts.Token, line =>
        {
            if (line.StartsWith("block ", StringComparison.Ordinal) && ++blocks == 1) cts.Cancel();
        }));
        Assert.Equal(1, blocks);
        Assert.Equal(["calibration.txt"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    private static double MeanAbsDiff(float[,] a, float[,] b)
    {
        double sum = 0;
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++) sum += Math.Abs(a[i, j] - b[i, j]);
        return sum / a.Length;
    }
}
