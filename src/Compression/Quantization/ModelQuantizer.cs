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
    public static LlamaModel Apply(LlamaModel model, QuantizationPolicy policy, IProgress<(int Done, int Total, string Name)>? progress = null)
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

        int total = linears.Count + 1, done = 0;
        var replaced = new Dictionary<string, LinearLayer>();
        var created = new List<IDisposable>();
        try
        {
            foreach (var (name, layer) in linears)
            {
                var converted = Convert(layer, Choice(specs[name]));
                created.Add(converted);
                replaced[name] = converted;
                progress?.Report((++done, total, name));
            }
            var embed = Convert(model.EmbedTokens, Choice(embedSpec));
            created.Add(embed);
            progress?.Report((++done, total, embedSpec.Name));

            var layers = new List<LlamaDecoderLayer>();
            for (int i = 0; i < c.NumLayers; i++)
            {
                var old = model.Layers[i];
                string p = $"model.layers.{i}.";
                LinearLayer L(string n) => replaced[p + n + ".weight"];
                var attention = new LlamaAttention(c, L("self_attn.q_proj"), L("self_attn.k_proj"), L("self_attn.v_proj"), L("self_attn.o_proj"));
                var mlp = new LlamaMlp(L("mlp.gate_proj"), L("mlp.up_proj"), L("mlp.down_proj"));
                layers.Add(new LlamaDecoderLayer(i, ShareNorm(old.InputNorm, c), attention, ShareNorm(old.PostAttentionNorm, c), mlp));
            }
            LinearLayer? head = c.TieWordEmbeddings ? null : replaced["lm_head.weight"];
            return new LlamaModel(c, embed, layers, ShareNorm(model.Norm, c), head, model.Rotary, model.DType, model.Device);
        }
        catch
        {
            foreach (var d in created) d.Dispose();
            throw;
        }
    }

    /// <summary>Bytes of the model's weights as held in memory (packed layers count their packed bytes, a tied head once).</summary>
    public static long PackedBytes(LlamaModel model) => model.WeightBytes;

    private static LinearLayer Convert(LinearLayer layer, TensorFormat format)
    {
        if (layer is PackedLinear p && p.Format == format) return PackedLinear.Share(p.Weight);
        if (format == FormatRegistry.F32)
        {
            if (layer is DenseLinear d) return new DenseLinear(d.Weight.detach()); // shares storage with the original
            return new DenseLinear(FloatWeight(layer));
        }
        using var scope = NewDisposeScope(); // the float copy of this one layer lives only here
        return new PackedLinear(FloatWeight(layer), format);
    }

    private static TokenEmbedding Convert(TokenEmbedding embedding, TensorFormat format)
    {
        if (embedding is PackedEmbedding p && p.Format == format) return PackedEmbedding.Share(p.Weight);
        if (format == FormatRegistry.F32)
        {
            if (embedding is DenseEmbedding d) return new DenseEmbedding(d.Weight.detach());
            return new DenseEmbedding(FloatWeight(embedding));
        }
        using var scope = NewDisposeScope();
        return new PackedEmbedding(FloatWeight(embedding), format);
    }

    /// <summary>The (Out, In) weight of a layer as float32 on the CPU (a new tensor, or a view of a dense float32 weight).</summary>
    private static Tensor FloatWeight(LinearLayer layer) => layer switch
    {
        DenseLinear d => d.Weight.detach().to(ScalarType.Float32, CPU),
        PackedLinear p => Dequantize(p.Weight),
        _ => throw new NotSupportedException($"cannot read the weight of a {layer.GetType().Name} layer"),
    };

    private static Tensor FloatWeight(TokenEmbedding embedding) => embedding switch
    {
        DenseEmbedding d => d.Weight.detach().to(ScalarType.Float32, CPU),
        PackedEmbedding p => Dequantize(p.Weight),
        _ => throw new NotSupportedException($"cannot read the weight of a {embedding.GetType().Name} embedding"),
    };

    /// <summary>A packed matrix expanded to a float32 (rows, cols) tensor, rows in parallel.</summary>
    internal static unsafe Tensor Dequantize(PackedWeight w)
    {
        var t = empty([w.Rows, w.Cols], ScalarType.Float32);
        nint dst = (nint)TensorPointer.Of(t), src = (nint)w.Data;
        int cols = w.Cols;
        long rb = w.RowBytes;
        var format = w.Format;
        Parallel.For(0, w.Rows, r => format.DequantizeRow(
            new ReadOnlySpan<byte>((byte*)src + r * rb, (int)rb), new Span<float>((float*)dst + (long)r * cols, cols)));
        return t;
    }

    /// <summary>A norm over the same weight storage (a new handle, so disposing either model leaves the other intact).</summary>
    private static RmsNorm ShareNorm(RmsNorm norm, LlamaConfig c) => new(norm.Weight.detach(), c.RmsNormEps);
}
