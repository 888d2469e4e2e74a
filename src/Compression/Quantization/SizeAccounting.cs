// SizeAccounting: bytes of a model under a quantization policy, computed from the config and the format registry.
using Compression.Model;

namespace Compression.Quantization;

/// <summary>Bytes and bits per weight of one model under one policy.</summary>
public sealed record ModelSize(string FormatName, string PolicyLabel, long Parameters, long Bytes,
    IReadOnlyDictionary<string, long> BytesByFormat)
{
    public double BitsPerWeight => 8.0 * Bytes / Parameters;
    public double GB => Bytes / 1e9;
    public double GiB => Bytes / (double)(1L << 30);
}

public static class SizeAccounting
{
    /// <summary>Human-readable group of a tensor role, for per-group parameter tables.</summary>
    public static string Group(TensorRole role) => role switch
    {
        TensorRole.Embedding => "token embedding",
        TensorRole.Query or TensorRole.Key or TensorRole.Value or TensorRole.Output => "attention (q, k, v, o)",
        TensorRole.Gate or TensorRole.Up or TensorRole.Down => "MLP (gate, up, down)",
        TensorRole.AttentionNorm or TensorRole.MlpNorm or TensorRole.FinalNorm or TensorRole.QueryNorm or TensorRole.KeyNorm => "norms",
        TensorRole.Router => "MoE router",
        TensorRole.LmHead => "LM head",
        _ => role.ToString(),
    };

    /// <summary>Bytes of every tensor of <paramref name="config"/> stored as <paramref name="policy"/> chooses (norms as F32, as GGUF keeps them).</summary>
    public static ModelSize Measure(LlamaConfig config, QuantizationPolicy policy)
    {
        long bytes = 0, parameters = 0;
        var byFormat = new Dictionary<string, long>();
        foreach (var spec in LlamaTensorLayout.Expected(config))
        {
            var format = policy.Choose(spec, Checkpoints.Gguf.GgufTensorNames.ToGguf(spec.Name));
            long b = format.ByteCount(spec.Shape.Length == 1 ? 1 : spec.Shape[0], spec.Shape[^1]);
            bytes += b;
            parameters += spec.Elements;
            byFormat[format.Name] = byFormat.GetValueOrDefault(format.Name) + b;
        }
        return new ModelSize(policy.Format.Name, policy.Label, parameters, bytes, byFormat);
    }

    /// <summary>Bytes of every tensor held in one plain float format (the FP32/BF16/FP16 baselines, norms included).</summary>
    public static long FloatBytes(LlamaConfig config, TensorFormat format) =>
        LlamaTensorLayout.Expected(config).Sum(s => format.ByteCount(s.Shape.Length == 1 ? 1 : s.Shape[0], s.Shape[^1]));
}
