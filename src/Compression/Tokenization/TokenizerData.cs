// TokenizerData: a byte-level BPE vocabulary as both tokenizer.json and GGUF (tokenizer.ggml.*) hold it —
// the one form loaders produce, the tokenizer is built from, and the GGUF writer writes.
namespace Compression.Tokenization;

/// <summary>GGUF token types (llama.cpp's <c>llama_token_type</c>).</summary>
public enum TokenType { Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

/// <summary>
/// A Llama 3-style byte-level BPE vocabulary. <see cref="Tokens"/> are in GPT-2's byte-to-unicode
/// spelling (as in tokenizer.json's <c>model.vocab</c> and GGUF's <c>tokenizer.ggml.tokens</c>), indexed by id;
/// <see cref="Merges"/> are "left right" pairs in rank order.
/// </summary>
public sealed record TokenizerData
{
    public required IReadOnlyList<string> Tokens { get; init; }
    /// <summary>One type per token; special tokens (e.g. &lt;|begin_of_text|&gt;) are <see cref="TokenType.Control"/>.</summary>
    public required IReadOnlyList<TokenType> TokenTypes { get; init; }
    public required IReadOnlyList<string> Merges { get; init; }
    public int? BosId { get; init; }
    public int? EosId { get; init; }
    /// <summary>Whether encoding prepends BOS by default (tokenizer_config.json <c>add_bos_token</c>, GGUF <c>tokenizer.ggml.add_bos_token</c>).</summary>
    public bool AddBos { get; init; } = true;
    /// <summary>llama.cpp pre-tokenizer name (<c>tokenizer.ggml.pre</c>): "llama-bpe" for Llama 3.</summary>
    public string Pre { get; init; } = "llama-bpe";
    /// <summary>Llama 3's <c>ignore_merges</c>: a pre-token that is itself in the vocabulary is emitted whole.</summary>
    public bool IgnoreMerges { get; init; } = true;

    /// <summary>True when both describe the same vocabulary: equal tokens, types and merges (element-wise) and equal settings.</summary>
    /// <remarks>The record's own <c>Equals</c> compares the lists by reference.</remarks>
    public bool ContentEquals(TokenizerData? other) =>
        other is not null
        && Tokens.SequenceEqual(other.Tokens, StringComparer.Ordinal)
        && TokenTypes.SequenceEqual(other.TokenTypes)
        && Merges.SequenceEqual(other.Merges, StringComparer.Ordinal)
        && BosId == other.BosId && EosId == other.EosId && AddBos == other.AddBos
        && Pre == other.Pre && IgnoreMerges == other.IgnoreMerges;
}
