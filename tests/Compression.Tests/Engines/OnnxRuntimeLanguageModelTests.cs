// The ONNX Runtime engine answers the harness's questions like the workbench's own forward on the same weights.
using Compression.Checkpoints;
using Compression.Engines.OnnxRuntime;
using Compression.Evaluation;
using Compression.Export.Onnx;
using Compression.Inference;
using Compression.Quantization;
using Compression.Tests.Model;

namespace Compression.Tests.Engines;

public class OnnxRuntimeLanguageModelTests
{
    private sealed class Rows : ITokenScoreSink
    {
        public readonly List<float[]> All = [];
        public void Accept(int position, int actualToken, ReadOnlySpan<float> logProbs) => All.Add(logProbs.ToArray());
    }

    [Fact]
    public void Scores_and_log_likelihoods_match_the_workbench_on_the_f32_export()
    {
        string dir = Path.Combine(TestPaths.NewTempDir("ort-engine"), "model");
        var policy = new QuantizationPolicy { Format = FormatRegistry.F32, KeepFormat = FormatRegistry.F32 };
        using (var input = CheckpointOpener.Open(TestPaths.TinyLlama))
            OnnxExporter.Write(input, s => policy.Choose(s), dir, new OnnxExportOptions { ContextLength = 128 });
        using var ort = OnnxRuntimeLanguageModel.Open(dir);
        using var session = ModelSession.Open(TestPaths.TinyLlama);
        var ours = session.AsLanguageModel(128);
        Assert.Equal(ours.VocabSize, ort.VocabSize);
        var tokens = ReferenceLogits.PromptTokens;
        Rows a = new(), b = new();
        ort.ScoreTokens(tokens, 1, a);
        ours.ScoreTokens(tokens, 1, b);
        Assert.Equal(b.All.Count, a.All.Count);
        double max = 0;
        for (int i = 0; i < a.All.Count; i++)
            for (int v = 0; v < a.All[i].Length; v++) max = Math.Max(max, Math.Abs(a.All[i][v] - b.All[i][v]));
        Assert.True(max <= 1e-4, $"log-softmax rows differ by {max:G3}");

        const string context = "Mira has a red fox.", continuation = " Mira lives in Saro.";
        var request = new LogLikelihoodRequest(ort.Encode(context, addBos: true), ort.Encode(continuation, addBos: false));
        var x = ort.LogLikelihood([request])[0];
        var y = ours.LogLikelihood([request])[0];
        Assert.Equal(y.IsGreedy, x.IsGreedy);
        Assert.True(Math.Abs(x.SumLogProb - y.SumLogProb) <= 1e-3, $"{x.SumLogProb} vs {y.SumLogProb}");
        Assert.Equal(ours.ByteLength(request.Continuation), ort.ByteLength(request.Continuation));
    }

    [Fact]
    public void A_folder_without_a_model_names_the_engine_and_the_file()
    {
        string dir = TestPaths.NewTempDir("ort-missing");
        var e = Assert.Throws<FileNotFoundException>(() => OnnxRuntimeLanguageModel.Open(dir));
        Assert.StartsWith("onnxruntime:", e.Message);
        Assert.Contains("genai_config.json", e.Message);
    }

    [Fact]
    public void A_corrupt_graph_is_a_clear_error_not_a_crash()
    {
        string dir = Path.Combine(TestPaths.NewTempDir("ort-corrupt"), "model");
        var policy = new QuantizationPolicy { Format = FormatRegistry.F32, KeepFormat = FormatRegistry.F32 };
        using (var input = CheckpointOpener.Open(TestPaths.TinyLlama))
            OnnxExporter.Write(input, s => policy.Choose(s), dir, new OnnxExportOptions { ContextLength = 16 });
        File.WriteAllBytes(Path.Combine(dir, "model.onnx"), [1, 2, 3, 4, 5]);
        var e = Assert.Throws<InvalidDataException>(() => OnnxRuntimeLanguageModel.Open(dir));
        Assert.Contains("onnxruntime: cannot load", e.Message);
        Assert.Contains("model.onnx", e.Message);
    }
}
