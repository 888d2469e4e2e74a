// LlamaOnnxGraph: the Llama decoder in onnxruntime-genai's layout — the graph its model builder writes for CPU, float32 I/O.
using Compression.Model;
using static Compression.Export.Onnx.Proto.TensorProto.Types;

namespace Compression.Export.Onnx;

/// <summary>
/// Builds the graph node by node, asking <c>linear</c> for each projection (it writes that weight's
/// initializers as it is called, so the weights stream out in graph order):
/// Gather → per layer [SimplifiedLayerNormalization | SkipSimplifiedLayerNormalization] → q/k/v →
/// GroupQueryAttention (RoPE inside, from cos/sin caches; past/present KV in BNSH) → o_proj →
/// SkipSimplifiedLayerNormalization → gate/up → SiLU·up → down → final SkipSimplifiedLayerNormalization → lm_head.
/// GroupQueryAttention takes the attention mask as seqlens_k = Σmask − 1 (int32 per batch row) and
/// total_sequence_length = mask width (int32 scalar), computed once at the top, as the builder does.
/// </summary>
internal static class LlamaOnnxGraph
{
    public const string InputIds = "input_ids", AttentionMask = "attention_mask", Logits = "logits";
    public static string PastKey(int i) => $"past_key_values.{i}.key";
    public static string PastValue(int i) => $"past_key_values.{i}.value";
    public static string PresentKey(int i) => $"present.{i}.key";
    public static string PresentValue(int i) => $"present.{i}.value";

    /// <summary>
    /// Declares inputs/outputs and adds every node. <paramref name="linear"/>(spec, input, node name) returns the product's
    /// name, <paramref name="embedding"/>(spec, input_ids) the looked-up rows' name.
    /// </summary>
    public static void Build(OnnxGraph g, LlamaConfig c, IReadOnlyDictionary<string, TensorSpec> specs,
        Func<TensorSpec, string, string, string> linear, Func<TensorSpec, string, string> embedding, Func<TensorSpec, string> norm,
        (string Cos, string Sin) rotary)
    {
        int kv = c.NumKeyValueHeads, hd = c.HeadDim;
        g.Input(InputIds, DataType.Int64, "batch_size", "sequence_length");
        g.Input(AttentionMask, DataType.Int64, "batch_size", "total_sequence_length");
        for (int i = 0; i < c.NumLayers; i++)
        {
            g.Input(PastKey(i), DataType.Float, "batch_size", kv, "past_sequence_length", hd);
            g.Input(PastValue(i), DataType.Float, "batch_size", kv, "past_sequence_length", hd);
        }
        g.Output(Logits, DataType.Float, "batch_size", "sequence_length", c.VocabSize);
        for (int i = 0; i < c.NumLayers; i++)
        {
            g.Output(PresentKey(i), DataType.Float, "batch_size", kv, "total_sequence_length", hd);
            g.Output(PresentValue(i), DataType.Float, "batch_size", kv, "total_sequence_length", hd);
        }

        // Mask → GroupQueryAttention's lengths.
        const string m = "/model/attn_mask_reformat/attn_mask_subgraph";
        var sum = g.Node("ReduceSum", $"{m}/ReduceSum", [AttentionMask, g.Int64Constant(1, scalar: false)], attributes: [("keepdims", 0L)]);
        var sub = g.Node("Sub", $"{m}/Sub", [sum[0], g.Int64Constant(1, scalar: false)]);
        var seqlensK = g.Node("Cast", $"{m}/Sub/Cast", [sub[0]], attributes: [("to", (long)DataType.Int32)])[0];
        var shape = g.Node("Shape", $"{m}/Shape", [AttentionMask]);
        var width = g.Node("Gather", $"{m}/Gather", [shape[0], g.Int64Constant(1, scalar: true)], attributes: [("axis", 0L)]);
        var totalLength = g.Node("Cast", $"{m}/Gather/Cast", [width[0]], attributes: [("to", (long)DataType.Int32)])[0];

        string x = embedding(specs["model.embed_tokens.weight"], InputIds);
        string residual = x, pending = x; // pending: the output not yet added to the residual stream
        float eps = (float)c.RmsNormEps;
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.", n = $"/model/layers.{i}";
            string h;
            if (i == 0)
                h = g.Node("SimplifiedLayerNormalization", $"{n}/input_layernorm/LayerNorm", [x, norm(specs[p + "input_layernorm.weight"])],
                    attributes: [("axis", -1L), ("epsilon", eps), ("stash_type", 1L)])[0];
            else
                (h, residual) = SkipNorm(g, $"{n}/input_layernorm/SkipLayerNorm", pending, residual, norm(specs[p + "input_layernorm.weight"]), eps);

            string q = linear(specs[p + "self_attn.q_proj.weight"], h, $"{n}/attn/q_proj");
            string k = linear(specs[p + "self_attn.k_proj.weight"], h, $"{n}/attn/k_proj");
            string v = linear(specs[p + "self_attn.v_proj.weight"], h, $"{n}/attn/v_proj");
            var attn = g.Node("GroupQueryAttention", $"{n}/attn/GroupQueryAttention",
                [q, k, v, PastKey(i), PastValue(i), seqlensK, totalLength, rotary.Cos, rotary.Sin],
                domain: OnnxGraph.MicrosoftDomain, outputs: [$"{n}/attn/GroupQueryAttention/output_0", PresentKey(i), PresentValue(i)],
                attributes:
                [
                    ("num_heads", (long)c.NumHeads), ("kv_num_heads", (long)kv), ("scale", (float)(1 / Math.Sqrt(hd))),
                    ("local_window_size", -1L), ("softcap", 0f), ("do_rotary", 1L), ("rotary_interleaved", 0L),
                ]);
            string o = linear(specs[p + "self_attn.o_proj.weight"], attn[0], $"{n}/attn/o_proj");

            (string h2, residual) = SkipNorm(g, $"{n}/post_attention_layernorm/SkipLayerNorm", o, residual, norm(specs[p + "post_attention_layernorm.weight"]), eps);
            string gate = linear(specs[p + "mlp.gate_proj.weight"], h2, $"{n}/mlp/gate_proj");
            string up = linear(specs[p + "mlp.up_proj.weight"], h2, $"{n}/mlp/up_proj");
            string sig = g.Node("Sigmoid", $"{n}/mlp/act_fn/Sigmoid", [gate])[0];
            string silu = g.Node("Mul", $"{n}/mlp/act_fn/Mul", [gate, sig])[0];
            string prod = g.Node("Mul", $"{n}/mlp/Mul", [silu, up])[0];
            pending = linear(specs[p + "mlp.down_proj.weight"], prod, $"{n}/mlp/down_proj");
        }
        (string final, _) = SkipNorm(g, "/model/layers.final_norm_layernorm/SkipLayerNorm", pending, residual, norm(specs["model.norm.weight"]), eps);
        var head = specs.TryGetValue("lm_head.weight", out var h0) ? h0 : specs["model.embed_tokens.weight"] with { Role = TensorRole.LmHead };
        string logits = linear(head, final, "/lm_head");
        g.Node("Identity", "/lm_head/Identity", [logits], outputs: [Logits]);
    }

    /// <summary>RMSNorm(a + residual)·w; returns (normalized, a + residual) — output 3 of the contrib op.</summary>
    private static (string Normed, string Sum) SkipNorm(OnnxGraph g, string name, string a, string residual, string weight, float eps)
    {
        var outs = g.Node("SkipSimplifiedLayerNormalization", name, [a, residual, weight], domain: OnnxGraph.MicrosoftDomain,
            outputs: [$"{name}/output_0", "", "", $"{name}/output_3"], attributes: [("epsilon", eps)]);
        return (outs[0], outs[3]);
    }
}
