// ExportCheck: does the exported GGUF hold the model that was trained? Its logits in the workbench's packed model and in
// mainline llama.cpp, against the fake-quantized student's, on one validation window.
using System.Text.Json.Serialization;
using Compression.Engines.LlamaCpp;
using Compression.Inference;
using Compression.Quantization;

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
    public static ExportCheck Measure(string checkpoint, string gguf, QuantizationPolicy policy, ReadOnlySpan<int> tokens)
    {
        float[,] student, packed, llama;
        using (var masters = ModelSession.Open(checkpoint))
        using (var fakeQuant = QatModel.Create(masters.Model, policy))
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
}
