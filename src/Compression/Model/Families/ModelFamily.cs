// ModelFamily: one architecture of the Llama family as data — how its config is recognised, which config fields it
// needs, which extra tensors its blocks hold (HF and GGUF names), how GGUF stores its rotary layout, its tokenizer kind.
namespace Compression.Model.Families;

/// <summary>The tokenizer a family ships with (what the tokenizer layer must provide; it is not built here).</summary>
public enum TokenizerKind
{
    /// <summary>GPT-2-style byte-level BPE (Llama 3, Qwen3): GGUF <c>tokenizer.ggml.model = gpt2</c>.</summary>
    ByteLevelBpe,
    /// <summary>SentencePiece BPE with byte fallback (Llama 2, Mistral, Mixtral): GGUF <c>tokenizer.ggml.model = llama</c>.</summary>
    SentencePieceBpe,
}

/// <summary>
/// A model family: everything that differs between Llama-like architectures, stated once. The shared blocks
/// (attention, SwiGLU MLP, RMSNorm, RoPE) read these switches; the assembly point (<see cref="LlamaModel.Assemble"/>)
/// and the tensor layout (<see cref="LlamaTensorLayout"/>) add the family's tensors. Adding a family is a new
/// instance in <see cref="ModelFamilies"/>.
/// </summary>
public sealed record ModelFamily
{
    /// <summary>Short name ("llama", "qwen3", ...), also written as config.json's <c>model_type</c>.</summary>
    public required string Name { get; init; }
    /// <summary>HF <c>architectures</c> entries that select this family.</summary>
    public required IReadOnlyList<string> HfArchitectures { get; init; }
    /// <summary>GGUF <c>general.architecture</c> and the prefix of its hyper-parameter keys.</summary>
    public required string GgufArchitecture { get; init; }
    /// <summary>
    /// llama.cpp's converter permutes Q/K rows so its RoPE can rotate adjacent pairs (the "llama" rope type); families
    /// whose GGUF uses the NEOX rope type (Qwen) keep HF's rotate-half row order.
    /// </summary>
    public bool GgufPermutesQueryKey { get; init; } = true;
    /// <summary>Per-head RMSNorm of queries and keys before RoPE (Qwen3: q_norm, k_norm of head_dim weights).</summary>
    public bool QueryKeyNorm { get; init; }
    /// <summary>config.json's <c>sliding_window</c> limits attention (Mistral v0.1); families without it ignore the field.</summary>
    public bool SlidingWindow { get; init; }
    /// <summary>A sparse mixture of SwiGLU experts with a router replaces the MLP (Mixtral).</summary>
    public bool SparseExperts { get; init; }
    /// <summary>Llama 3 rope scaling is allowed (other families: no rope scaling).</summary>
    public bool Llama3RopeScaling { get; init; }
    /// <summary>config.json fields this family cannot do without (beyond the ones every family needs).</summary>
    public IReadOnlyList<string> RequiredFields { get; init; } = [];
    public required TokenizerKind Tokenizer { get; init; }
    /// <summary>One line for listings: what the family is and how it was verified.</summary>
    public required string Description { get; init; }

    public override string ToString() => Name;
}
