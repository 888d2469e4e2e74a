// ModelQuantizer: the in-memory quantization path — a new LlamaModel whose layers are packed as a policy chooses.
using Compression.Checkpoints.Gguf;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Quantization;

/// <summary>
/// Quantizes a loaded model in memory, layer by layer. This is how formats with no GGUF type (int8, int4*)
/// are evaluated, and what sweeps use; files for llama.cpp go through <see cref="GgufExporter"/> instead.
/// </summary>
public static class ModelQuantizer
{
    /// <summary>
    /// A new model (same config, norms, rotary, dtype, device) in which every linear layer — and the token
    /// embedding and LM head when <paramref name="policy"/> says so — whose chosen format is not f32 is a
    /// <see cref="PackedLinear"/>/<see cref="PackedEmbedding"/> in that format, quantized from the current
    /// weight (dense weights directly; packed ones dequantized then requantized, or shared as they are when
    /// already in the chosen format). Layers chosen as f32 keep their dense weight (shared storage) or are
    /// dequantized to dense float32. One layer is converted at a time, so memory grows only by the packed bytes.
    /// <paramref name="model"/> is left intact; the caller disposes both.
    /// </summary>
    public static LlamaModel Apply(LlamaModel model, QuantizationPolicy policy, IProgress<(int Done, int Total, string Name)>? progress = null) =>
        Apply(model, policy, progress, null, null);

    /// <summary>
    /// As <see cref="Apply(LlamaModel, QuantizationPolicy, IProgress{ValueTuple{int, int, string}}?)"/>, but the layers in
    /// <paramref name="prepared"/> (by HF name; made by a calibrated method) are used as they are — handed over to the new
    /// model — and the norms in <paramref name="norms"/> (float weights a method rewrote, e.g. AWQ's folded scales) replace
    /// the model's. Everything else is converted as the policy says.
    /// </summary>
    internal static LlamaModel Apply(LlamaModel model, QuantizationPolicy policy, IProgress<(int Done, int Total, string Name)>? progress,
        IDictionary<string, LinearLayer>? prepared, IReadOnlyDictionary<string, Tensor>? norms)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(policy);
        var c = model.Config;
        var specs = LlamaTensorLayout.Expected(c).ToDictionary(s => s.Name);
        var linears = model.LinearLayers().Where(l => specs.ContainsKey(l.Name)).ToList(); // a tied head follows the embedding
        var embedSpec = specs["model.embed_tokens.weight"];
        TensorFormat Choice(TensorSpec spec) => policy.Choose(spec, GgufTensorNames.ToGguf(spec.Name));

        bool packs = Choice(embedSpec) != FormatRegistry.F32 || linears.Any(l => Choice(specs[l.Name]) != FormatRegistry.F32);
        if (packs && (model.Device.type != TorchSharp.DeviceType.CPU || model.DType != ScalarType.Float32))
            throw new ArgumentException(
                $"in-memory quantization needs a float32 model on the CPU (packed kernels run there); this model runs {model.DType} on {model.Device}");
        foreach (var spec in linears.Select(l => specs[l.Name]).Append(embedSpec))
        {
            var f = Choice(spec);
            if (f != FormatRegistry.F32 && !f.CanQuantize)
                throw new ArgumentException($"{spec.Name}: the workbench cannot quantize to {f.Name}");
        }

        return LlamaModel.Assemble(c, new QuantizedParts(model, Choice, progress, linears.Count + 1, prepared, norms), model.DType, model.Device);
    }

    /// <summary>The parts of <paramref name="model"/> converted to the policy's formats, one tensor at a time.</summary>
    private sealed class QuantizedParts(LlamaModel model, Func<TensorSpec, TensorFormat> choice,
        IProgress<(int Done, int Total, string Name)>? progress, int total,
        IDictionary<string, LinearLayer>? prepared, IReadOnlyDictionary<string, Tensor>? norms) : IModelParts
    {
        private readonly Dictionary<string, LinearLayer> _linears = model.LinearLayers().ToDictionary(l => l.Name, l => l.Layer);
        private readonly Dictionary<string, RmsNorm> _norms = model.NamedNorms().ToDictionary(p => p.Name, p => p.Norm);
        private int _done;

        public TokenEmbedding Embedding(TensorSpec spec) => Report(spec, Convert(model.EmbedTokens, choice(spec)));
        public LinearLayer Linear(TensorSpec spec) => Report(spec,
            prepared is not null && prepared.Remove(spec.Name, out var made) ? made : Convert(_linears[spec.Name], choice(spec)));
        /// <summary>A norm over the same weight storage (a new handle, so disposing either model leaves the other intact).</summary>
        public RmsNorm Norm(TensorSpec spec, double eps) =>
            new((norms is not null && norms.TryGetValue(spec.Name, out var w) ? w : _norms[spec.Name].Weight).detach(), eps);
        /// <summary>The router stays float32 (shared storage), as llama-quantize keeps ffn_gate_inp.</summary>
        public DenseLinear Router(TensorSpec spec) =>
            new(((SparseMoe)model.Layers[spec.Layer].Mlp).Router.Weight.detach());
        public IReadOnlyList<float>? RopeFactors => model.Rotary.FrequencyFactors;

        private T Report<T>(TensorSpec spec, T part)
        {
            progress?.Report((++_done, total, spec.Name));
            return part;
        }
    }

    /// <summary>Bytes of the model's weights as held in memory (packed layers count their packed bytes, a tied head once).</summary>
    public static long PackedBytes(LlamaModel model) => model.WeightBytes;

    private static LinearLayer Convert(LinearLayer layer, TensorFormat format) => (layer, format) switch
    {
        (PackedLinear p, _) when p.Format == format => PackedLinear.Share(p.Weight),
        (DenseLinear d, _) when format == FormatRegistry.F32 => new DenseLinear(d.Weight.detach()), // shared storage
        (PackedLinear p, _) when format != FormatRegistry.F32 => new PackedLinear(PackedWeight.Convert(p.Weight, format)),
        _ when format == FormatRegistry.F32 => new DenseLinear(FloatWeight(layer)),
        _ => Quantized(FloatWeight(layer), w => new PackedLinear(w, format)),
    };

    private static TokenEmbedding Convert(TokenEmbedding embedding, TensorFormat format) => (embedding, format) switch
    {
        (PackedEmbedding p, _) when p.Format == format => PackedEmbedding.Share(p.Weight),
        (DenseEmbedding d, _) when format == FormatRegistry.F32 => new DenseEmbedding(d.Weight.detach()),
        (PackedEmbedding p, _) when format != FormatRegistry.F32 => new PackedEmbedding(PackedWeight.Convert(p.Weight, format)),
        _ when format == FormatRegistry.F32 => new DenseEmbedding(FloatWeight(embedding)),
        _ => Quantized(FloatWeight(embedding), w => new PackedEmbedding(w, format)),
    };

    /// <summary>Quantizes a float copy of one layer's weight; the copy is freed before the next layer.</summary>
    private static T Quantized<T>(Tensor floatWeight, Func<Tensor, T> quantize)
    {
        using (floatWeight) return quantize(floatWeight);
    }

    /// <summary>The (Out, In) weight of a layer as float32 on the CPU (a new tensor).</summary>
    internal static Tensor FloatWeight(LinearLayer layer) => layer switch
    {
        DenseLinear d => FloatCopy(d.Weight),
        PackedLinear p => Dequantize(p.Weight),
        _ => throw new NotSupportedException($"cannot read the weight of a {layer.GetType().Name} layer"),
    };

    /// <summary>A float32 CPU copy of a parameter (the detached alias it goes through is freed at once).</summary>
    internal static Tensor FloatCopy(Tensor parameter)
    {
        using var detached = parameter.detach();
        return detached.to(ScalarType.Float32, CPU, copy: true);
    }

    private static Tensor FloatWeight(TokenEmbedding embedding) => embedding switch
    {
        DenseEmbedding d => d.Weight.detach().to(ScalarType.Float32, CPU, copy: true),
        PackedEmbedding p => Dequantize(p.Weight),
        _ => throw new NotSupportedException($"cannot read the weight of a {embedding.GetType().Name} embedding"),
    };

    /// <summary>A packed matrix expanded to a float32 (rows, cols) tensor, rows in parallel.</summary>
    internal static unsafe Tensor Dequantize(PackedWeight w)
    {
        var t = empty([w.Rows, w.Cols], ScalarType.Float32);
        nint dst = (nint)TensorPointer.Of(t);
        int cols = w.Cols;
        var format = w.Format;
        Parallel.For(0, w.Rows, r => format.DequantizeRow(w.Row(r), new Span<float>((float*)dst + (long)r * cols, cols)));
        return t;
    }
}
