// DecodeLayout: whether decode GEMVs read a format's weights from a copy laid out for its kernel (COMPRESS_REPACK) instead of in place.
namespace Compression.Kernels;

/// <summary>
/// Loading maps packed weights in place: the file's layout, no copy, anonymous memory ≈ KV cache + activations. A
/// format may also define a <i>decode layout</i> — the same bytes rearranged the way its GEMV kernel reads them
/// (<see cref="Quantization.TensorFormat.DecodeLayoutBytes"/>) — which costs a second copy of each matrix a decode
/// GEMV touches, in anonymous memory, built on its first use, and buys compute per byte. q1_0's sixteen-row kernel
/// spends about a third of its time transposing sign bits and gathering scales from sixteen rows, which its layout
/// does once (the same bits either way); q4_0's layout puts one row in each int32 lane, eight rows to a register, which
/// cuts the vector work per weight by a third and the loads by two thirds, and computes every row in the scalar
/// reference's order (its bits; the file's kernels differ from them by rounding). Off unless <c>COMPRESS_REPACK=1</c> (llama.cpp's CPU backend repacks q4_0
/// by default); tests set it for a scope with <see cref="Use"/>, which flows with the calling context.
/// </summary>
public static class DecodeLayout
{
    public const string EnvironmentVariable = "COMPRESS_REPACK";

    private static readonly ContextSetting<bool> Setting = new(
        Environment.GetEnvironmentVariable(EnvironmentVariable)?.Trim().ToLowerInvariant() is "1" or "on" or "true" or "yes");

    /// <summary>Whether decode GEMVs started from this context use decode layouts.</summary>
    public static bool Enabled => Setting.Value;

    /// <summary>Uses decode layouts (or not) from this context until the result is disposed.</summary>
    public static IDisposable Use(bool enabled) => Setting.Use(enabled);
}
