// TensorErrorMeasurement: relative error ‖W − Ŵ‖/‖W‖ of every block projection of a quantized model against its baseline.
using Compression.Model;
using Compression.Quantization;
using Compression.Reporting;
using static TorchSharp.torch;

namespace Compression.Experiments;

/// <summary>Per-tensor quantization error for the report's per-layer chart.</summary>
public static class TensorErrorMeasurement
{
    private static readonly Dictionary<string, string> s_projections = new()
    {
        ["self_attn.q_proj"] = "q", ["self_attn.k_proj"] = "k", ["self_attn.v_proj"] = "v", ["self_attn.o_proj"] = "o",
        ["mlp.gate_proj"] = "gate", ["mlp.up_proj"] = "up", ["mlp.down_proj"] = "down",
    };

    /// <summary>
    /// ‖W − Ŵ‖_F / ‖W‖_F for each projection of each decoder layer, W from <paramref name="baseline"/> and Ŵ the
    /// dequantized weight of <paramref name="quantized"/>; labelled <paramref name="label"/>. A zero W with zero error gives 0.
    /// </summary>
    public static IReadOnlyList<TensorError> Measure(LlamaModel baseline, LlamaModel quantized, string label)
    {
        var reference = baseline.LinearLayers().ToDictionary(l => l.Name, l => l.Layer);
        var errors = new List<TensorError>();
        foreach (var (name, layer) in quantized.LinearLayers())
        {
            if (!TryParse(name, out int index, out string projection)) continue;
            float[] w = Weights(reference[name]), q = Weights(layer);
            double diff = 0, norm = 0;
            for (int i = 0; i < w.Length; i++)
            {
                double d = (double)w[i] - q[i];
                diff += d * d;
                norm += (double)w[i] * w[i];
            }
            errors.Add(new TensorError(label, index, projection, norm > 0 ? Math.Sqrt(diff / norm) : diff > 0 ? double.PositiveInfinity : 0));
        }
        return errors;
    }

    /// <summary>A linear layer's weight as row-major float32 values (packed weights dequantized with the format's reference).</summary>
    public static float[] Weights(LinearLayer layer)
    {
        switch (layer)
        {
            case DenseLinear dense:
                using (no_grad())
                using (var f = dense.Weight.detach().to(ScalarType.Float32).cpu().contiguous())
                    return f.data<float>().ToArray();
            case PackedLinear packed:
                var w = packed.Weight;
                var values = new float[(long)w.Rows * w.Cols];
                for (int r = 0; r < w.Rows; r++) w.Format.DequantizeRowReference(w.Row(r), values.AsSpan(r * w.Cols, w.Cols));
                return values;
            default:
                throw new NotSupportedException($"cannot read the weights of a {layer.GetType().Name}");
        }
    }

    private static bool TryParse(string name, out int layer, out string projection)
    {
        layer = -1;
        projection = "";
        const string prefix = "model.layers.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(".weight", StringComparison.Ordinal)) return false;
        string rest = name[prefix.Length..^".weight".Length];
        int dot = rest.IndexOf('.');
        if (dot < 0 || !int.TryParse(rest[..dot], out layer)) return false;
        return s_projections.TryGetValue(rest[(dot + 1)..], out projection!);
    }
}
