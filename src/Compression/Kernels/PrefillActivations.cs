// PrefillActivations: whether a multi-token forward quantizes activations to Q8 where a format's prefill kernel can (llama.cpp's arithmetic) or keeps them in float.
namespace Compression.Kernels;

/// <summary>
/// The decode GEMVs of the integer formats always multiply with Q8 activations, as llama.cpp does. For prefill (GEMM,
/// n ≥ 2) there are two arithmetics, and which one runs is a property of the task, not of the machine:
/// <list type="bullet">
/// <item><b>Float</b> (the default): dequantized weights times float activations — weight-only quantization, the same
/// for every format, so evaluation (perplexity, KL divergence, multiple choice, logits) compares formats on their
/// weights alone.</item>
/// <item><b>Q8</b> (generation and the throughput benchmark): formats with an integer prefill kernel
/// (<see cref="Quantization.TensorFormat.GemmQuantizesActivations"/>: q4_0 and q8_0, <see cref="IntPrefillGemm"/>) quantize each
/// token to Q8 blocks as their decode does — what llama.cpp computes for the prompt, about twice as fast as the
/// float tiles here (q4_0 1.5–2×). Other formats are unaffected.</item>
/// </list>
/// Set for a scope with <see cref="Use"/>; it flows with the calling (async) context, and kernels read it on the
/// calling thread before they fan out.
/// </summary>
public static class PrefillActivations
{
    public enum Mode { Float, Q8 }

    private static readonly ContextSetting<Mode> Setting = new(Mode.Float);

    /// <summary>The arithmetic of prefill GEMMs started from this context.</summary>
    public static Mode Current => Setting.Value;

    /// <summary>Runs prefill GEMMs from this context with <paramref name="mode"/> until the result is disposed.</summary>
    public static IDisposable Use(Mode mode) => Setting.Use(mode);
}
