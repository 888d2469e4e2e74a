// LlamaTensorLayout: the Hugging Face tensor names and shapes a config implies — the approved list
// that loaders check checkpoints against and that size accounting counts.
namespace Compression.Model;

/// <summary>Which part of the model a tensor belongs to (used for size tables and quantization policies).</summary>
public enum TensorRole { Embedding, AttentionNorm, Query, Key, Value, Output, MlpNorm, Gate, Up, Down, FinalNorm, LmHead }

/// <summary>One expected tensor: HF name, shape (PyTorch order: out, in) and role; <see cref="Layer"/> is -1 outside the blocks.</summary>
public sealed record TensorSpec(string Name, long[] Shape, TensorRole Role, int Layer)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    /// <summary>Linear-layer weights (what matmuls read) — the tensors quantizers may touch.</summary>
    public bool IsLinear => Role is TensorRole.Query or TensorRole.Key or TensorRole.Value or TensorRole.Output
        or TensorRole.Gate or TensorRole.Up or TensorRole.Down;
    public bool IsNorm => Role is TensorRole.AttentionNorm or TensorRole.MlpNorm or TensorRole.FinalNorm;
}

public static class LlamaTensorLayout
{
    /// <summary>Every tensor a checkpoint of <paramref name="c"/> holds, in HF order. The LM head is absent when tied.</summary>
    public static IReadOnlyList<TensorSpec> Expected(LlamaConfig c)
    {
        var list = new List<TensorSpec> { new("model.embed_tokens.weight", [c.VocabSize, c.HiddenSize], TensorRole.Embedding, -1) };
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            list.Add(new(p + "input_layernorm.weight", [c.HiddenSize], TensorRole.AttentionNorm, i));
            list.Add(new(p + "self_attn.q_proj.weight", [c.QueryDim, c.HiddenSize], TensorRole.Query, i));
            list.Add(new(p + "self_attn.k_proj.weight", [c.KeyValueDim, c.HiddenSize], TensorRole.Key, i));
            list.Add(new(p + "self_attn.v_proj.weight", [c.KeyValueDim, c.HiddenSize], TensorRole.Value, i));
            list.Add(new(p + "self_attn.o_proj.weight", [c.HiddenSize, c.QueryDim], TensorRole.Output, i));
            list.Add(new(p + "post_attention_layernorm.weight", [c.HiddenSize], TensorRole.MlpNorm, i));
            list.Add(new(p + "mlp.gate_proj.weight", [c.IntermediateSize, c.HiddenSize], TensorRole.Gate, i));
            list.Add(new(p + "mlp.up_proj.weight", [c.IntermediateSize, c.HiddenSize], TensorRole.Up, i));
            list.Add(new(p + "mlp.down_proj.weight", [c.HiddenSize, c.IntermediateSize], TensorRole.Down, i));
        }
        list.Add(new("model.norm.weight", [c.HiddenSize], TensorRole.FinalNorm, -1));
        if (!c.TieWordEmbeddings) list.Add(new("lm_head.weight", [c.VocabSize, c.HiddenSize], TensorRole.LmHead, -1));
        return list;
    }

    /// <summary>Total parameter count of <paramref name="c"/> (tied LM head counted once).</summary>
    public static long ParameterCount(LlamaConfig c) => Expected(c).Sum(t => t.Elements);
}
