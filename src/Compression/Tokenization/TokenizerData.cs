// TokenizerData: a BPE vocabulary (byte-level or SentencePiece-style) as both tokenizer.json and GGUF (tokenizer.ggml.*)
// hold it — the one form loaders produce, the tokenizer is built from, and the GGUF writer writes.
namespace Compression.Tokenization;

/// <summary>GGUF token types (llama.cpp's <c>llama_token_type</c>).</summary>
public enum TokenType { Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

/// <summary>
/// A BPE vocabulary of one of the <see cref="TokenizerKinds"/>. For <see cref="TokenizerKind.ByteLevelBpe"/>
/// (Llama 3, Qwen) <see cref="Tokens"/> are in GPT-2's byte-to-unicode spelling; for
/// <see cref="TokenizerKind.SentencePieceBpe"/> (Llama 2, Mistral) they are SentencePiece pieces ("▁the",
/// "&lt;0x0A&gt;"). Either way they are as in tokenizer.json's <c>model.vocab</c> and GGUF's
/// <c>tokenizer.ggml.tokens</c>, indexed by id. <see cref="Merges"/> are "left right" pairs in rank order.
/// </summary>
public sealed record TokenizerData
{
    /// <summary>Which tokenizer algorithm the vocabulary is for (GGUF <c>tokenizer.ggml.model</c>: gpt2 or llama).</summary>
    public TokenizerKind Kind { get; init; } = TokenizerKind.ByteLevelBpe;
    public required IReadOnlyList<string> Tokens { get; init; }
    /// <summary>One type per token; special tokens (e.g. &lt;|begin_of_text|&gt;) are <see cref="TokenType.Control"/>.</summary>
    public required IReadOnlyList<TokenType> TokenTypes { get; init; }
    /// <summary>
    /// Merge pairs in rank order. A SentencePiece vocabulary from GGUF has none (llama.cpp ranks its pairs by
    /// <see cref="Scores"/>); one from tokenizer.json has them (Hugging Face ranks by this list).
    /// </summary>
    public required IReadOnlyList<string> Merges { get; init; }
    /// <summary>SentencePiece scores, one per token (GGUF <c>tokenizer.ggml.scores</c>); null for byte-level BPE and for tokenizer.json.</summary>
    public IReadOnlyList<float>? Scores { get; init; }
    public int? BosId { get; init; }
    public int? EosId { get; init; }
    /// <summary>Whether encoding prepends BOS by default (tokenizer_config.json <c>add_bos_token</c>, GGUF <c>tokenizer.ggml.add_bos_token</c>).</summary>
    public bool AddBos { get; init; } = true;
    /// <summary>
    /// llama.cpp pre-tokenizer name (<c>tokenizer.ggml.pre</c>) of a byte-level BPE, one of <see cref="PreTokenizers"/>:
    /// "llama-bpe" for Llama 3, "qwen2" for Qwen. Not used by SentencePiece vocabularies.
    /// </summary>
    public string Pre { get; init; } = "llama-bpe";
    /// <summary>SentencePiece: a "▁" goes before the text and after every special token (GGUF <c>tokenizer.ggml.add_space_prefix</c>).</summary>
    public bool AddSpacePrefix { get; init; } = true;
    /// <summary>Unicode NFC before tokenizing (Qwen's tokenizer.json normalizer); GGUF has no such key and llama.cpp never normalizes.</summary>
    public bool NormalizeNfc { get; init; }
    /// <summary>Llama 3's <c>ignore_merges</c>: a pre-token that is itself in the vocabulary is emitted whole.</summary>
    public bool IgnoreMerges { get; init; } = true;

    /// <summary>True when both describe the same vocabulary: equal tokens, types, merges and scores (element-wise) and equal settings.</summary>
    /// <remarks>The record's own <c>Equals</c> compares the lists by reference.</remarks>
    public bool ContentEquals(TokenizerData? other) =>
        other is not null
        && Tokens.SequenceEqual(other.Tokens, StringComparer.Ordinal)
        && TokenTypes.SequenceEqual(other.TokenTypes)
        && Merges.SequenceEqual(other.Merges, StringComparer.Ordinal)
        && (Scores is null ? other.Scores is null : other.Scores is not null && Scores.SequenceEqual(other.Scores))
        && Kind == other.Kind && BosId == other.BosId && EosId == other.EosId && AddBos == other.AddBos
        && Pre == other.Pre && IgnoreMerges == other.IgnoreMerges && AddSpacePrefix == other.AddSpacePrefix
        && NormalizeNfc == other.NormalizeNfc;
}
