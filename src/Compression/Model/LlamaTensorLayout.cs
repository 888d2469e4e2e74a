// LlamaTensorLayout: the Hugging Face tensor names and shapes a config implies (its family's block structure
// included) — the approved list that loaders check checkpoints against and that size accounting counts.
namespace Compression.Model;

/// <summary>Which part of the model a tensor belongs to (used for size tables and quantization policies).</summary>
public enum TensorRole
{
    Embedding, AttentionNorm, Query, Key, Value, Output, MlpNorm, Gate, Up, Down, FinalNorm, LmHead,
    /// <summary>Qwen3's per-head RMSNorm of queries / keys (head_dim weights).</summary>
    QueryNorm, KeyNorm,
    /// <summary>A mixture-of-experts router (Experts × Hidden), kept in float: its logits pick the experts.</summary>
    Router,
}

/// <summary>
/// One expected tensor: HF name, shape (PyTorch order: out, in) and role; <see cref="Layer"/> is -1 outside the blocks,
/// <see cref="Expert"/> the expert index of a mixture-of-experts projection (else -1).
/// </summary>
public sealed record TensorSpec(string Name, long[] Shape, TensorRole Role, int Layer, int Expert = -1)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
    /// <summary>Linear-layer weights (what matmuls read) — the tensors quantizers may touch. The router is not one.</summary>
    public bool IsLinear => Role is TensorRole.Query or TensorRole.Key or TensorRole.Value or TensorRole.Output
        or TensorRole.Gate or TensorRole.Up or TensorRole.Down;
    public bool IsNorm => Role is TensorRole.AttentionNorm or TensorRole.MlpNorm or TensorRole.FinalNorm
        or TensorRole.QueryNorm or TensorRole.KeyNorm;
}

public static class LlamaTensorLayout
{
    /// <summary>Every tensor a checkpoint of <paramref name="c"/> holds, in HF order. The LM head is absent when tied.</summary>
    public static IReadOnlyList<TensorSpec> Expected(LlamaConfig c)
    {
        var family = c.Family;
        var list = new List<TensorSpec> { new("model.embed_tokens.weight", [c.VocabSize, c.HiddenSize], TensorRole.Embedding, -1) };
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            list.Add(new(p + "input_layernorm.weight", [c.HiddenSize], TensorRole.AttentionNorm, i));
            list.Add(new(p + "self_attn.q_proj.weight", [c.QueryDim, c.HiddenSize], TensorRole.Query, i));
            list.Add(new(p + "self_attn.k_proj.weight", [c.KeyValueDim, c.HiddenSize], TensorRole.Key, i));
            list.Add(new(p + "self_attn.v_proj.weight", [c.KeyValueDim, c.HiddenSize], TensorRole.Value, i));
            list.Add(new(p + "self_attn.o_proj.weight", [c.HiddenSize, c.QueryDim], TensorRole.Output, i));
            if (family.QueryKeyNorm)
            {
                list.Add(new(p + "self_attn.q_norm.weight", [c.HeadDim], TensorRole.QueryNorm, i));
                list.Add(new(p + "self_attn.k_norm.weight", [c.HeadDim], TensorRole.KeyNorm, i));
            }
            list.Add(new(p + "post_attention_layernorm.weight", [c.HiddenSize], TensorRole.MlpNorm, i));
            if (family.SparseExperts)
            {
                string m = p + "block_sparse_moe.";
                list.Add(new(m + "gate.weight", [c.Experts, c.HiddenSize], TensorRole.Router, i));
                for (int e = 0; e < c.Experts; e++)
                {
                    // Mixtral's names: w1 = gate, w3 = up, w2 = down.
                    list.Add(new($"{m}experts.{e}.w1.weight", [c.IntermediateSize, c.HiddenSize], TensorRole.Gate, i, e));
                    list.Add(new($"{m}experts.{e}.w2.weight", [c.HiddenSize, c.IntermediateSize], TensorRole.Down, i, e));
                    list.Add(new($"{m}experts.{e}.w3.weight", [c.IntermediateSize, c.HiddenSize], TensorRole.Up, i, e));
                }
            }
            else
            {
                list.Add(new(p + "mlp.gate_proj.weight", [c.IntermediateSize, c.HiddenSize], TensorRole.Gate, i));
                list.Add(new(p + "mlp.up_proj.weight", [c.IntermediateSize, c.HiddenSize], TensorRole.Up, i));
                list.Add(new(p + "mlp.down_proj.weight", [c.HiddenSize, c.IntermediateSize], TensorRole.Down, i));
            }
        }
        list.Add(new("model.norm.weight", [c.HiddenSize], TensorRole.FinalNorm, -1));
        if (!c.TieWordEmbeddings) list.Add(new("lm_head.weight", [c.VocabSize, c.HiddenSize], TensorRole.LmHead, -1));
        return list;
    }

    /// <summary>Total parameter count of <paramref name="c"/> (tied LM head counted once).</summary>
    public static long ParameterCount(LlamaConfig c) => Expected(c).Sum(t => t.Elements);

    /// <summary>
    /// Parameters one token's forward reads: all of them for a dense model; for a mixture of experts only
    /// <see cref="LlamaConfig.ExpertsPerToken"/> of each block's experts (Mixtral 8x7B: 12.9 B of 46.7 B).
    /// </summary>
    public static long ActiveParameterCount(LlamaConfig c) =>
        Expected(c).Where(t => t.Expert < 0 || t.Expert < c.ExpertsPerToken).Sum(t => t.Elements);
}
