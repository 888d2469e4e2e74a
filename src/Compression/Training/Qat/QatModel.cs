// QatModel: the student of quantization-aware training — a trained model's weights as trainable float masters,
// every tensor a policy quantizes wrapped in its format's fake quantizer, assembled through LlamaModel.Assemble.
using Compression.Checkpoints.Gguf;
using Compression.Model;
using Compression.Quantization;
using static TorchSharp.torch;

namespace Compression.Training.Qat;

/// <summary>Builds fake-quantized students; the model structure itself comes from the one assembly point.</summary>
public static class QatModel
{
    /// <summary>
    /// A trainable float32 CPU copy of <paramref name="source"/> (dense or packed) in which each 2-D tensor gets the format
    /// <paramref name="policy"/> chooses for it — the same choice the GGUF export makes — as a <see cref="FakeQuantLinear"/>
    /// or <see cref="FakeQuantEmbedding"/>; tensors it keeps at f32 are plain trainable layers, norms stay float. At step 0
    /// the student's forward is exactly the post-training (round-to-nearest) quantization of the source.
    /// </summary>
    /// <param name="learnedScale">
    /// Give every tensor whose format's block is one scale a trainable scale per block (<see cref="LearnedScale"/>),
    /// initialised to the format's own; tensors of other formats keep the format's rule. Step 0 is then the post-training
    /// quantization up to ties (q1_0 exactly; the ternary formats code with 1/fp16(amax) instead of 1/amax).
    /// </param>
    public static LlamaModel Create(LlamaModel source, QuantizationPolicy policy, bool learnedScale = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(policy);
        return LlamaModel.Assemble(source.Config, new StudentParts(source, policy, learnedScale), ScalarType.Float32, CPU);
    }

    /// <summary>The format of each tensor of the student (and of the exported file), by HF name.</summary>
    public static TensorFormat Choose(QuantizationPolicy policy, TensorSpec spec) => policy.Choose(spec, GgufTensorNames.ToGguf(spec.Name));

    private sealed class StudentParts(LlamaModel source, QuantizationPolicy policy, bool learnedScale) : IModelParts
    {
        private readonly Dictionary<string, LinearLayer> _linears = source.LinearLayers().ToDictionary(l => l.Name, l => l.Layer);
        private readonly Dictionary<string, RmsNorm> _norms = source.Layers
            .SelectMany((l, i) => new[] { ($"model.layers.{i}.input_layernorm.weight", l.InputNorm), ($"model.layers.{i}.post_attention_layernorm.weight", l.PostAttentionNorm) })
            .Append(("model.norm.weight", source.Norm)).ToDictionary(p => p.Item1, p => p.Item2);

        public TokenEmbedding Embedding(TensorSpec spec)
        {
            using var w = EmbeddingWeight(source.EmbedTokens);
            var format = Choose(policy, spec);
            return format == FormatRegistry.F32 ? new DenseEmbedding(w.clone(), requiresGrad: true) : new FakeQuantEmbedding(w, format, learnedScale && LearnedScale.Supports(format));
        }

        public LinearLayer Linear(TensorSpec spec)
        {
            using var w = ModelQuantizer.FloatWeight(_linears[spec.Name]);
            var format = Choose(policy, spec);
            return format == FormatRegistry.F32 ? new DenseLinear(w.clone(), requiresGrad: true) : new FakeQuantLinear(w, format, learnedScale && LearnedScale.Supports(format));
        }

        public RmsNorm Norm(TensorSpec spec, double eps) => new(ModelQuantizer.FloatCopy(_norms[spec.Name].Weight), eps, requiresGrad: true);

        public IReadOnlyList<float>? RopeFactors => source.Rotary.FrequencyFactors;

        private static Tensor EmbeddingWeight(TokenEmbedding embedding) => embedding switch
        {
            DenseEmbedding d => ModelQuantizer.FloatCopy(d.Weight),
            PackedEmbedding p => ModelQuantizer.Dequantize(p.Weight),
            FakeQuantEmbedding f => ModelQuantizer.FloatCopy(f.Weight),
            _ => throw new NotSupportedException($"cannot read the weight of a {embedding.GetType().Name} embedding"),
        };
    }
}
