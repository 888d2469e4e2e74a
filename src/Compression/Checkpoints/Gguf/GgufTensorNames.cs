// GgufTensorNames: Hugging Face <-> llama.cpp tensor names for the Llama family (llama, qwen3; Mixtral's experts), and
// the Q/K row permutation llama.cpp's converter applies so its RoPE can rotate adjacent pairs.
using System.Text.RegularExpressions;
using Compression.Model;

namespace Compression.Checkpoints.Gguf;

/// <summary>Name mapping and Q/K row orders between Hugging Face and GGUF (llama arch).</summary>
public static partial class GgufTensorNames
{
    /// <summary>llama.cpp's tensor of per-frequency RoPE divisors (Llama 3 scaling); not a model weight.</summary>
    public const string RopeFrequencies = "rope_freqs.weight";

    private static readonly (string Hf, string Gguf)[] Global =
    [
        ("model.embed_tokens.weight", "token_embd.weight"),
        ("model.norm.weight", "output_norm.weight"),
        ("lm_head.weight", "output.weight"),
    ];

    private static readonly (string Hf, string Gguf)[] Block =
    [
        ("input_layernorm", "attn_norm"),
        ("self_attn.q_proj", "attn_q"),
        ("self_attn.k_proj", "attn_k"),
        ("self_attn.v_proj", "attn_v"),
        ("self_attn.o_proj", "attn_output"),
        ("post_attention_layernorm", "ffn_norm"),
        ("mlp.gate_proj", "ffn_gate"),
        ("mlp.up_proj", "ffn_up"),
        ("mlp.down_proj", "ffn_down"),
        ("self_attn.q_norm", "attn_q_norm"),
        ("self_attn.k_norm", "attn_k_norm"),
        ("block_sparse_moe.gate", "ffn_gate_inp"),
    ];

    /// <summary>Mixtral's per-expert HF projections and the GGUF tensor holding all experts of a block, expert-major.</summary>
    private static readonly (string Hf, string Gguf)[] Experts = [("w1", "ffn_gate_exps"), ("w3", "ffn_up_exps"), ("w2", "ffn_down_exps")];

    [GeneratedRegex(@"^model\.layers\.(\d+)\.block_sparse_moe\.experts\.(\d+)\.(w[123])\.weight$")] private static partial Regex HfExpert();
    [GeneratedRegex(@"^blk\.(\d+)\.(ffn_(?:gate|up|down)_exps)\.weight$")] private static partial Regex GgufExperts();

    /// <summary>
    /// For a merged GGUF expert tensor (<c>blk.N.ffn_gate_exps.weight</c>, …), the HF name of expert <c>e</c>'s slice as a
    /// function of e; null for any other name.
    /// </summary>
    public static Func<int, string>? ExpertSlices(string ggufName)
    {
        var m = GgufExperts().Match(ggufName);
        if (!m.Success) return null;
        string layer = m.Groups[1].Value, hf = Experts.First(x => x.Gguf == m.Groups[2].Value).Hf;
        return e => $"model.layers.{layer}.block_sparse_moe.experts.{e}.{hf}.weight";
    }

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)\.weight$")] private static partial Regex HfBlock();
    [GeneratedRegex(@"^blk\.(\d+)\.(.+)\.weight$")] private static partial Regex GgufBlock();

    /// <summary>The GGUF name of HF tensor <paramref name="hfName"/>, or null when llama.cpp has no name for it.</summary>
    public static string? ToGguf(string hfName)
    {
        foreach (var (hf, gguf) in Global) if (hf == hfName) return gguf;
        if (HfExpert().Match(hfName) is { Success: true } x)
            return $"blk.{x.Groups[1].Value}.{Experts.First(e => e.Hf == x.Groups[3].Value).Gguf}.weight"; // the merged tensor
        var m = HfBlock().Match(hfName);
        if (!m.Success) return null;
        foreach (var (hf, gguf) in Block)
            if (hf == m.Groups[2].Value) return $"blk.{m.Groups[1].Value}.{gguf}.weight";
        return null;
    }

    /// <summary>The HF name of GGUF tensor <paramref name="ggufName"/>, or null when it is not one weight (see <see cref="ExpertSlices"/>).</summary>
    public static string? ToHuggingFace(string ggufName)
    {
        foreach (var (hf, gguf) in Global) if (gguf == ggufName) return hf;
        var m = GgufBlock().Match(ggufName);
        if (!m.Success) return null;
        foreach (var (hf, gguf) in Block)
            if (gguf == m.Groups[2].Value) return $"model.layers.{m.Groups[1].Value}.{hf}.weight";
        return null;
    }

    /// <summary>
    /// Heads whose rows llama.cpp permutes for tensor <paramref name="spec"/>: the query heads for q_proj,
    /// the KV heads for k_proj, null for every other tensor and for families whose GGUF keeps HF's rotate-half order (Qwen).
    /// </summary>
    public static int? PermutedHeads(TensorSpec spec, LlamaConfig config) => !config.Family.GgufPermutesQueryKey ? null : spec.Role switch
    {
        TensorRole.Query => config.NumHeads,
        TensorRole.Key => config.NumKeyValueHeads,
        _ => null,
    };

    /// <summary>
    /// For each HF row r, the GGUF row holding it. llama.cpp stores
    /// <c>W.reshape(heads, 2, hd/2, cols).swapaxes(1, 2).reshape(rows, cols)</c>: HF row (h, t, j) — half t,
    /// pair j of head h — becomes GGUF row (h, j, t). This is <see cref="StoredTensor.RowOrder"/> for a GGUF Q/K.
    /// </summary>
    public static int[] StoredRowOfHfRow(int rows, int heads)
    {
        int hd = HeadRows(rows, heads), half = hd / 2;
        var order = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            int h = r / hd, t = r % hd / half, j = r % half;
            order[r] = h * hd + 2 * j + t;
        }
        return order;
    }

    /// <summary>For each GGUF row g, the HF row it holds (the inverse of <see cref="StoredRowOfHfRow"/>).</summary>
    public static int[] HfRowOfStoredRow(int rows, int heads)
    {
        var forward = StoredRowOfHfRow(rows, heads);
        var inverse = new int[rows];
        for (int r = 0; r < rows; r++) inverse[forward[r]] = r;
        return inverse;
    }

    private static int HeadRows(int rows, int heads)
    {
        if (heads <= 0 || rows % heads != 0 || rows / heads % 2 != 0)
            throw new ArgumentException($"{rows} rows cannot be split into {heads} heads of an even size");
        return rows / heads;
    }
}
