// ModelQuantizer (interim version for the runner branch; the quantize branch's version replaces it on merge):
// an in-memory quantized copy of a model, every linear layer packed in the format its policy chooses.
using Compression.Checkpoints.Gguf;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Quantization;

/// <summary>Quantizes a loaded model in memory.</summary>
public static class ModelQuantizer
{
    /// <summary>
    /// A new model whose linear layers are <see cref="PackedLinear"/> in the formats <paramref name="policy"/> chooses
    /// (dense float32 where it chooses f32). Nothing is shared with <paramref name="model"/>: the embedding and norms are
    /// copied, so either model can be disposed independently. This interim version leaves the token embedding dense.
    /// </summary>
    public static LlamaModel Apply(LlamaModel model, QuantizationPolicy policy, IProgress<(int Done, int Total, string Name)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(policy);
        var c = model.Config;
        var specs = LlamaTensorLayout.Expected(c).ToDictionary(s => s.Name);
        var layers = model.LinearLayers().ToList();
        int done = 0;
        using var noGrad = no_grad();

        LinearLayer Convert(string name, LinearLayer layer)
        {
            using var scope = NewDisposeScope();
            // A tied head has no spec of its own; it is quantized like an LM head.
            var spec = specs.TryGetValue(name, out var s) ? s : new TensorSpec(name, [layer.OutFeatures, layer.InFeatures], TensorRole.LmHead, -1);
            var format = policy.Choose(spec, GgufTensorNames.ToGguf(name));
            var weight = DenseWeight(layer);
            LinearLayer result = format == FormatRegistry.F32
                ? new DenseLinear(weight.clone().MoveToOuterDisposeScope())
                : new PackedLinear(weight, format);
            progress?.Report((++done, layers.Count, name));
            return result;
        }

        var byName = layers.ToDictionary(l => l.Name, l => l.Layer);
        var decoderLayers = new List<LlamaDecoderLayer>();
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            LinearLayer L(string n) => Convert(p + n + ".weight", byName[p + n + ".weight"]);
            var source = model.Layers[i];
            var attention = new LlamaAttention(c, L("self_attn.q_proj"), L("self_attn.k_proj"), L("self_attn.v_proj"), L("self_attn.o_proj"));
            var mlp = new LlamaMlp(L("mlp.gate_proj"), L("mlp.up_proj"), L("mlp.down_proj"));
            decoderLayers.Add(new LlamaDecoderLayer(i, CopyNorm(source.InputNorm, c), attention, CopyNorm(source.PostAttentionNorm, c), mlp));
        }
        var embedding = model.EmbedTokens is DenseEmbedding dense
            ? new DenseEmbedding(dense.Weight.detach().clone())
            : throw new NotSupportedException($"ModelQuantizer: a {model.EmbedTokens.FormatName} packed token embedding cannot be copied yet; load the model dense.");
        LinearLayer? head = c.TieWordEmbeddings ? null : Convert("lm_head.weight", model.LmHead);
        return new LlamaModel(c, embedding, decoderLayers, CopyNorm(model.Norm, c), head,
            model.Rotary, model.DType, model.Device);
    }

    private static RmsNorm CopyNorm(RmsNorm norm, LlamaConfig c) => new(norm.Weight.detach().clone(), c.RmsNormEps);

    /// <summary>The layer's weight as a float32 (out, in) tensor: dense weights as they are, packed ones dequantized.</summary>
    private static Tensor DenseWeight(LinearLayer layer)
    {
        switch (layer)
        {
            case DenseLinear d:
                return d.Weight.detach().to(ScalarType.Float32);
            case PackedLinear p:
                var w = p.Weight;
                var values = new float[(long)w.Rows * w.Cols];
                for (int r = 0; r < w.Rows; r++) w.Format.DequantizeRow(w.Row(r), values.AsSpan(r * w.Cols, w.Cols));
                return tensor(values, [w.Rows, w.Cols]);
            default:
                throw new NotSupportedException($"ModelQuantizer: cannot read the weights of a {layer.GetType().Name}.");
        }
    }
}
