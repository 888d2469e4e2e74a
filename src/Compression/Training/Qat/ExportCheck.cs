// ExportCheck: does the exported GGUF hold the model that was trained? Its logits in the workbench's packed model and in
// mainline llama.cpp, against the fake-quantized student's, on one validation window.
using System.Text.Json.Serialization;
using Compression.Engines.LlamaCpp;
using Compression.Inference;
using Compression.Quantization;
using Compression.Training;

namespace Compression.Training.Qat;

/// <summary>Largest and mean |Δlogit| of the exported file against the fake-quantized student, per engine, over <see cref="Tokens"/> positions.</summary>
public sealed record ExportCheck(
    [property: JsonPropertyName("tokens")] int Tokens,
    [property: JsonPropertyName("workbench_max_abs")] double WorkbenchMaxAbs,
    [property: JsonPropertyName("llamacpp_max_abs")] double LlamaCppMaxAbs,
    [property: JsonPropertyName("llamacpp_mean_abs")] double LlamaCppMeanAbs,
    [property: JsonPropertyName("llamacpp_top1_agree")] double LlamaCppTop1Agree)
{
    /// <summary>
    /// Rebuilds the student from the checkpoint's master weights, runs <paramref name="tokens"/> through it, through
    /// <paramref name="gguf"/> loaded packed, and through llama.cpp (exact attention, F32 KV cache), and compares logits.
    /// llama.cpp quantizes activations to 8-bit blocks on the fly, so it agrees to ~1e-2, the workbench to float rounding.
    /// </summary>
    /// <param name="learnedScale">The student has learned block scales: they are read from the checkpoint with the weights.</param>
    public static ExportCheck Measure(string checkpoint, string gguf, QuantizationPolicy policy, ReadOnlySpan<int> tokens, bool learnedScale = false)
    {
        float[,] student, packed, llama;
        using (var fakeQuant = Student(checkpoint, policy, learnedScale))
            student = fakeQuant.Logits(tokens);
        using (var session = ModelSession.Open(gguf, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks }))
            packed = session.Model.Logits(tokens);
        using (var engine = LlamaCppModel.Load(gguf, new LlamaCppOptions { Threads = 1, ContextSize = tokens.Length, BatchSize = tokens.Length, ExactAttention = true }))
            llama = engine.Logits(tokens);
        double wMax = 0, lMax = 0, lSum = 0;
        int agree = 0, rows = student.GetLength(0), cols = student.GetLength(1);
        for (int i = 0; i < rows; i++)
        {
            int a = 0, b = 0;
            for (int j = 0; j < cols; j++)
            {
                wMax = Math.Max(wMax, Math.Abs(student[i, j] - packed[i, j]));
                double d = Math.Abs(student[i, j] - llama[i, j]);
                lMax = Math.Max(lMax, d);
                lSum += d;
                if (student[i, j] > student[i, a]) a = j;
                if (llama[i, j] > llama[i, b]) b = j;
            }
            if (a == b) agree++;
        }
        return new ExportCheck(rows, wMax, lMax, lSum / student.Length, (double)agree / rows);
    }

    /// <summary>The fake-quantized student a QAT checkpoint holds: its master weights and, if learned, its block scales.</summary>
    public static Model.LlamaModel Student(string checkpoint, QuantizationPolicy policy, bool learnedScale)
    {
        using var masters = ModelSession.Open(checkpoint);
        var student = QatModel.Create(masters.Model, policy, learnedScale);
        if (learnedScale)
        {
            try
            {
                var parameters = student.named_parameters().ToDictionary(p => Trainer.HfName(p.name), p => (TorchSharp.torch.Tensor)p.parameter);
                new QatWeightStore().ReadInto(checkpoint, parameters);
            }
            catch { student.Dispose(); throw; }
        }
        return student;
    }
}
