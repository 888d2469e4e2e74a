// QatRun end to end on the tiny fixture: a few steps, the exported Q1_0 GGUF (pure: every 2-D tensor) gives the
// fake-quantized student's logits in the workbench's packed model and in mainline llama.cpp; settings and
// teacher/student mismatches are refused before training.
using Compression.Checkpoints.Gguf;
using Compression.Checkpoints.Safetensors;
using Compression.Engines.LlamaCpp;
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using Compression.Tests.Model;
using Compression.Tokenization;
using Compression.Training.Qat;
using Xunit.Abstractions;

namespace Compression.Tests.Training.Qat;

public class QatRunTests(ITestOutputHelper output)
{
    private static readonly LlamaCppOptions Exact = new() { Threads = 2, ContextSize = 64, BatchSize = 64, ExactAttention = true };

    internal static (string Train, string Valid) WriteText(string dir)
    {
        string[] sentences =
        [
            "The quick brown fox jumps over the lazy dog.", "A model trained at one bit keeps only the sign of each weight.",
            "Seven times six is forty-two, and forty-two is the answer.", "Rounding after training loses what training before rounding keeps.",
        ];
        var docs = Enumerable.Range(0, 60).Select(i => string.Join(" ", Enumerable.Range(0, 4).Select(j => sentences[(i + j) % sentences.Length])));
        string train = Path.Combine(dir, "train.txt"), valid = Path.Combine(dir, "valid.txt");
        File.WriteAllText(train, string.Join("\n\n", docs));
        File.WriteAllText(valid, string.Join("\n\n", docs.Take(12).Reverse()));
        return (train, valid);
    }

    private static QatOptions Options(string dir, string format = "q1_0", string policy = "pure") => WriteText(dir) is var (train, valid) ? new QatOptions
    {
        Model = TestPaths.TinyLlama, Teacher = TestPaths.TinyLlama, Format = format, Policy = policy, Alpha = 0.7, Temperature = 2,
        TrainFile = train, ValidFile = valid, Steps = 3, LearningRate = 2e-3, WarmupSteps = 1, BatchSize = 2, SequenceLength = 32,
        EvalInterval = 3, EvalBatches = 1, CheckpointInterval = 0, Threads = 0,
    } : throw new InvalidOperationException();

    [Fact]
    public void Exported_gguf_gives_the_fake_quant_students_logits_in_the_workbench_and_in_llama_cpp()
    {
        string dir = TestPaths.NewTempDir("qat-export");
        var o = Options(dir);
        var summary = QatRun.Run(o, Path.Combine(dir, "out"))!;
        Assert.Equal(3, summary.Steps);
        Assert.Equal(QatMethod.Distilled, summary.Method);
        Assert.NotNull(summary.Ptq);
        Assert.NotNull(summary.Ptq!.Kl);
        Assert.True(summary.Final!.Kl < summary.Ptq.Kl, $"KL {summary.Ptq.Kl:F4} → {summary.Final.Kl:F4}");

        // Pure: every 2-D tensor, the embedding and the LM head included, is Q1_0 in the file.
        using (var file = GgufCheckpoint.Open(summary.Gguf))
            Assert.All(file.Tensors.Values.Where(t => t.Shape.Length == 2), t => Assert.Equal("q1_0", t.Format.Name));

        var tokens = ReferenceLogits.PromptTokens;
        float[,] student;
        using (var masters = ModelSession.Open(Path.Combine(dir, "out", QatRun.CheckpointFolder)))
        using (var fakeQuant = QatModel.Create(masters.Model, o.QuantizationPolicy))
            student = fakeQuant.Logits(tokens);
        float[,] packed;
        using (var session = ModelSession.Open(summary.Gguf, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks }))
        {
            Assert.All(session.Model.LinearLayers(), l => Assert.Equal("q1_0", l.Layer.FormatName));
            packed = session.Model.Logits(tokens);
        }
        using var engine = LlamaCppModel.Load(summary.Gguf, Exact);
        var llama = engine.Logits(tokens);

        double packedDiff = ReferenceLogits.MaxAbsDiff(student, packed), llamaDiff = ReferenceLogits.MaxAbsDiff(student, llama);
        double llamaMean = MeanAbsDiff(student, llama);
        output.WriteLine($"fake-quant student vs packed GGUF: max {packedDiff:E2}; vs llama.cpp: max {llamaDiff:E2} mean {llamaMean:E2}");
        // The workbench's prefill multiplies dequantized weights in float32: the same model to float rounding.
        Assert.True(packedDiff < 1e-3, $"packed vs fake-quant: {packedDiff:E2}");
        // llama.cpp quantizes activations to 8-bit blocks on the fly (see LlamaCppAgreementTests for the same bounds).
        Assert.True(llamaDiff < 0.15 && llamaMean < 0.02, $"llama.cpp vs fake-quant: max {llamaDiff:E2} mean {llamaMean:E2}");

        // The run measured the same on a validation window and recorded it in qat.json.
        var check = summary.ExportCheck!;
        Assert.Equal(32, check.Tokens);
        Assert.True(check.WorkbenchMaxAbs < 1e-3 && check.LlamaCppMaxAbs < 0.15 && check.LlamaCppMeanAbs < 0.02, check.ToString());
    }

    [Fact]
    public void Resume_refuses_other_settings_and_reuses_a_finished_run()
    {
        string dir = TestPaths.NewTempDir("qat-resume");
        var o = Options(dir, "q8_0", "default") with { CheckpointInterval = 1 };
        string outDir = Path.Combine(dir, "out");
        Assert.Null(QatRun.Run(o, outDir, stopAtStep: 2)); // stopped early: no export yet
        var e = Assert.Throws<InvalidDataException>(() => QatRun.Run(o with { Alpha = 0.2 }, outDir));
        Assert.Contains("other settings", e.Message);
        var summary = QatRun.Run(o, outDir)!;
        Assert.Equal(3, summary.Steps);
        Assert.Equal(new[] { 0, 3 }, summary.Curve.Select(c => c.Step));
        var again = QatRun.Run(o, outDir)!; // finished with the same settings: reused, not retrained
        Assert.Equal(summary.ElapsedSeconds, again.ElapsedSeconds);
    }

    [Fact]
    public void A_teacher_of_another_vocabulary_shape_or_tokenizer_is_refused_before_training()
    {
        string dir = TestPaths.NewTempDir("qat-mismatch");
        var o = Options(dir);
        var config = LlamaConfig.Load(TestPaths.TinyLlamaFile("config.json"));
        var tokenizer = TokenizerJson.Load(TestPaths.TinyLlamaFile("tokenizer.json"));

        string wider = Path.Combine(dir, "wider");
        SyntheticCheckpoint.Write(config with { IntermediateSize = 256 }, wider, FormatRegistry.F32, 1L << 30, tokenizer: tokenizer);
        string vocab = Path.Combine(dir, "vocab");
        SyntheticCheckpoint.Write(config with { VocabSize = 640 }, vocab, FormatRegistry.F32, 1L << 30);
        File.Copy(TestPaths.TinyLlamaFile("tokenizer.json"), Path.Combine(vocab, "tokenizer.json"));
        string otherTokenizer = Path.Combine(dir, "tokenizer");
        var swapped = tokenizer.Tokens.ToArray();
        (swapped[300], swapped[301]) = (swapped[301], swapped[300]);
        SyntheticCheckpoint.Write(config, otherTokenizer, FormatRegistry.F32, 1L << 30, tokenizer: tokenizer with { Tokens = swapped });

        foreach (var (teacher, expected) in new[] { (wider, "shape"), (vocab, "vocabulary"), (otherTokenizer, "tokenizer") })
        {
            string outDir = Path.Combine(dir, "out-" + Path.GetFileName(teacher));
            var e = Assert.Throws<InvalidDataException>(() => QatRun.Run(o with { Teacher = teacher }, outDir));
            Assert.Contains(teacher, e.Message);
            Assert.Contains(expected, e.Message);
            Assert.False(Directory.Exists(Path.Combine(outDir, QatRun.CheckpointFolder)), "training started before the check");
        }
    }

    [Fact]
    public void Options_are_checked_with_one_line_naming_the_setting()
    {
        string dir = TestPaths.NewTempDir("qat-options");
        var o = Options(dir);
        Assert.Contains("f16", Assert.Throws<ArgumentException>(() => (o with { Format = "f16" }).Validate()).Message);
        Assert.Contains("policy", Assert.Throws<ArgumentException>(() => (o with { Policy = "llama.cpp" }).Validate()).Message);
        Assert.Contains("alpha", Assert.Throws<ArgumentException>(() => (o with { Alpha = 2 }).Validate()).Message);
        Assert.Contains("nope.txt", Assert.Throws<FileNotFoundException>(() => QatRun.Run(o with { TrainFile = Path.Combine(dir, "nope.txt") }, Path.Combine(dir, "o"))).Message);
        Assert.Equal(QatMethod.Plain, (o with { Alpha = 0 }).Method);
    }

    [Fact]
    public void A_vocabulary_shorter_than_the_embedding_is_padded_for_llama_cpp()
    {
        var tokenizer = TokenizerJson.Load(TestPaths.TinyLlamaFile("tokenizer.json"));
        var padded = Compression.Checkpoints.Gguf.GgufTokenizer.PaddedTo(tokenizer, 520)!;
        Assert.Equal(520, padded.Tokens.Count);
        Assert.Equal(520, padded.TokenTypes.Count);
        Assert.Equal("[PAD515]", padded.Tokens[515]);
        Assert.Equal(TokenType.Unused, padded.TokenTypes[519]);
        Assert.Equal(tokenizer.Tokens, padded.Tokens.Take(512));
        Assert.Same(tokenizer, Compression.Checkpoints.Gguf.GgufTokenizer.PaddedTo(tokenizer, 512));
    }

    private static double MeanAbsDiff(float[,] a, float[,] b)
    {
        double sum = 0;
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++) sum += Math.Abs(a[i, j] - b[i, j]);
        return sum / a.Length;
    }
}
