// ModelLoader: builds a LlamaModel from an opened checkpoint, tensor by tensor, without an FP32 copy of the model.
using Compression.Checkpoints;
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>How to load a checkpoint into a model.</summary>
public sealed record ModelLoadOptions
{
    public Device Device { get; init; } = CPU;
    /// <summary>Activation dtype; dense weights are converted to it.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;
    /// <summary>
    /// Offered every linear weight first; returns a layer that keeps the weight in its stored (packed)
    /// form, or null to load it dense. Supplied by the quantization layer, so the model knows no formats.
    /// </summary>
    public Func<StoredTensor, LinearLayer?>? PackedLinear { get; init; }
    /// <summary>As <see cref="PackedLinear"/>, for the token embedding.</summary>
    public Func<StoredTensor, TokenEmbedding?>? PackedEmbedding { get; init; }
    public IProgress<(int Done, int Total, string Name)>? Progress { get; init; }
    /// <summary>Load tensors holding NaN or ±Inf instead of refusing them (for studying broken models).</summary>
    public bool AllowNonFinite { get; init; }
}

public static class ModelLoader
{
    /// <summary>Loads every tensor of <paramref name="checkpoint"/> into a model (checkpoint may be disposed afterwards).</summary>
    public static LlamaModel Load(Checkpoint checkpoint, ModelLoadOptions? options = null)
    {
        options ??= new ModelLoadOptions();
        var c = checkpoint.Config;
        NonFinite.Check(checkpoint, options.AllowNonFinite);
        var specs = LlamaTensorLayout.Expected(c);
        int done = 0;
        void Report(string name) => options.Progress?.Report((++done, specs.Count, name));

        var packedLinears = new Dictionary<string, LinearLayer>();
        if (options.PackedLinear is { } packed)
            foreach (var spec in specs.Where(s => s.IsLinear || s.Role == TensorRole.LmHead))
                if (packed(checkpoint[spec.Name]) is { } layer) packedLinears[spec.Name] = layer;

        var packedEmbedding = options.PackedEmbedding?.Invoke(checkpoint["model.embed_tokens.weight"]);

        var model = LlamaModel.Build(c, options.DType, options.Device, (name, shape) =>
        {
            // Packed layers are swapped in below; give Build a placeholder that allocates nothing.
            if (packedLinears.ContainsKey(name) || (packedEmbedding is not null && name == "model.embed_tokens.weight"))
                return empty(shape, options.DType, new Device(TorchSharp.DeviceType.META));
            var t = ToTensor(checkpoint[name], shape.Length == 1 ? ScalarType.Float32 : options.DType, options.Device);
            Report(name);
            return t;
        }, ropeFactors: checkpoint.RopeFrequencyFactors);

        if (packedLinears.Count == 0 && packedEmbedding is null) return model;
        return Rebuild(model, packedEmbedding, packedLinears, Report);
    }

    /// <summary>Replaces meta placeholders by the packed layers (and the embedding, when packed).</summary>
    private static LlamaModel Rebuild(LlamaModel model, TokenEmbedding? packedEmbedding,
        Dictionary<string, LinearLayer> packed, Action<string> report)
    {
        var c = model.Config;
        LinearLayer Pick(string name, LinearLayer dense)
        {
            if (!packed.TryGetValue(name, out var p)) return dense;
            dense.Dispose();
            report(name);
            return p;
        }
        var layers = new List<LlamaDecoderLayer>();
        for (int i = 0; i < c.NumLayers; i++)
        {
            var old = model.Layers[i];
            var projections = old.NamedProjections().ToDictionary(p => p.Name, p => p.Layer);
            string pre = $"model.layers.{i}.";
            LinearLayer P(string n) => Pick(pre + n + ".weight", projections[n]);
            var attention = new LlamaAttention(c, P("self_attn.q_proj"), P("self_attn.k_proj"), P("self_attn.v_proj"), P("self_attn.o_proj"));
            var mlp = new LlamaMlp(P("mlp.gate_proj"), P("mlp.up_proj"), P("mlp.down_proj"));
            layers.Add(new LlamaDecoderLayer(i, old.InputNorm, attention, old.PostAttentionNorm, mlp));
        }
        TokenEmbedding embed = model.EmbedTokens;
        if (packedEmbedding is not null)
        {
            embed.Dispose();
            embed = packedEmbedding;
        }
        LinearLayer? head = c.TieWordEmbeddings ? null : Pick("lm_head.weight", model.LmHead);
        var rebuilt = new LlamaModel(c, embed, layers, model.Norm, head, model.Rotary, model.DType, model.Device);
        // The old wrappers share their norms and dense layers with the new model: keep their finalizers from
        // releasing native module state while the new model runs (they are dropped, never disposed).
        GC.SuppressFinalize(model);
        foreach (var old in model.Layers)
        {
            GC.SuppressFinalize(old);
            GC.SuppressFinalize(old.Attention);
            GC.SuppressFinalize(old.Mlp);
        }
        return rebuilt;
    }

    /// <summary>A stored float or quantized tensor as a dense tensor of <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(StoredTensor stored, ScalarType dtype, Device device)
    {
        var sameFloat = (stored.Format.Name, dtype) switch
        {
            ("f32", ScalarType.Float32) or ("bf16", ScalarType.BFloat16) or ("f16", ScalarType.Float16) => true,
            _ => false,
        };
        long bytes = stored.Elements * (sameFloat ? stored.Format.BytesPerBlock : 4);
        if (bytes > int.MaxValue)
            throw new NotSupportedException(
                $"{stored.Source.Path}: tensor '{stored.Name}' would take {bytes:N0} bytes as a dense {dtype} tensor; load it packed (the default on CPU) or in a 16-bit dtype");
        if (sameFloat)
        {
            var raw = empty(stored.Shape, dtype);
            stored.CopyTo(raw.bytes);
            return raw.to(device);
        }
        var f32 = empty(stored.Shape, ScalarType.Float32);
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(f32.bytes);
        int cols = checked((int)stored.Cols);
        const int chunkRows = 256;
        for (long r = 0; r < stored.Rows; r += chunkRows)
        {
            int n = (int)Math.Min(chunkRows, stored.Rows - r);
            stored.ReadRows(r, n, floats.Slice(checked((int)(r * cols)), n * cols));
        }
        if (dtype == ScalarType.Float32 && device.type == TorchSharp.DeviceType.CPU) return f32;
        using (f32) return f32.to(dtype, device);
    }
}
