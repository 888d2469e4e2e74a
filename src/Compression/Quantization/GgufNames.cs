// GgufNames: the mapping between Hugging Face tensor names and llama.cpp's GGUF names.
using System.Text.RegularExpressions;

namespace Compression.Quantization;

/// <summary>HF ↔ GGUF tensor names for the llama architecture ("model.layers.3.mlp.up_proj.weight" ↔ "blk.3.ffn_up.weight").</summary>
public static partial class GgufNames
{
    private static readonly (string Hf, string Gguf)[] LayerParts =
    [
        ("input_layernorm", "attn_norm"), ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
        ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"), ("post_attention_layernorm", "ffn_norm"),
        ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down"),
    ];

    private static readonly (string Hf, string Gguf)[] Globals =
    [
        ("model.embed_tokens.weight", "token_embd.weight"), ("model.norm.weight", "output_norm.weight"), ("lm_head.weight", "output.weight"),
    ];

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)\.weight$")] private static partial Regex HfLayer();
    [GeneratedRegex(@"^blk\.(\d+)\.(.+)\.weight$")] private static partial Regex GgufLayer();

    /// <summary>The GGUF name of an HF tensor, or null when it has none.</summary>
    public static string? FromHf(string hf)
    {
        foreach (var (h, g) in Globals) if (h == hf) return g;
        var m = HfLayer().Match(hf);
        if (!m.Success) return null;
        foreach (var (h, g) in LayerParts) if (h == m.Groups[2].Value) return $"blk.{m.Groups[1].Value}.{g}.weight";
        return null;
    }

    /// <summary>The HF name of a GGUF tensor, or null when it has none (e.g. rope_freqs.weight).</summary>
    public static string? ToHf(string gguf)
    {
        foreach (var (h, g) in Globals) if (g == gguf) return h;
        var m = GgufLayer().Match(gguf);
        if (!m.Success) return null;
        foreach (var (h, g) in LayerParts) if (g == m.Groups[2].Value) return $"model.layers.{m.Groups[1].Value}.{h}.weight";
        return null;
    }
}
