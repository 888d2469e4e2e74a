// TokenizerKinds: the registry of tokenizer algorithms — one row per kind with its GGUF model name and how to build it.
namespace Compression.Tokenization;

/// <summary>The tokenizer algorithms the workbench implements.</summary>
public enum TokenizerKind
{
    /// <summary>GPT-2-style byte-level BPE with a regex pre-tokenizer (Llama 3, Qwen2/Qwen3); GGUF <c>tokenizer.ggml.model = gpt2</c>.</summary>
    ByteLevelBpe,
    /// <summary>SentencePiece-style BPE over "▁"-escaped text with &lt;0xNN&gt; byte fallback (Llama 2, Mistral, Mixtral); GGUF <c>tokenizer.ggml.model = llama</c>.</summary>
    SentencePieceBpe,
}

/// <summary>One row of <see cref="TokenizerKinds"/>.</summary>
/// <param name="Kind">The algorithm.</param>
/// <param name="GgufModel">The value of GGUF's <c>tokenizer.ggml.model</c> (llama.cpp's vocabulary type name).</param>
/// <param name="Description">What it is and which families use it, for messages.</param>
public sealed record TokenizerKindInfo(TokenizerKind Kind, string GgufModel, string Description)
{
    /// <summary>Builds the kind's encoder of ordinary text (text between special tokens).</summary>
    internal Func<TokenizerData, ITokenModel> Create { get; init; } = null!;
}

/// <summary>The registry of tokenizer kinds: adding a kind is a model class and a row here.</summary>
public static class TokenizerKinds
{
    /// <summary>Every supported kind.</summary>
    public static IReadOnlyList<TokenizerKindInfo> All { get; } =
    [
        new(TokenizerKind.ByteLevelBpe, "gpt2", "byte-level BPE (Llama 3, Qwen)") { Create = d => new ByteLevelBpeModel(d) },
        new(TokenizerKind.SentencePieceBpe, "llama", "SentencePiece BPE with byte fallback (Llama 2, Mistral)") { Create = d => new SentencePieceBpeModel(d) },
    ];

    /// <summary>The row of <paramref name="kind"/>.</summary>
    public static TokenizerKindInfo Get(TokenizerKind kind) =>
        All.FirstOrDefault(k => k.Kind == kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a registered tokenizer kind");

    /// <summary>The kind whose GGUF <c>tokenizer.ggml.model</c> is <paramref name="ggufModel"/>, or null.</summary>
    public static TokenizerKindInfo? FromGguf(string ggufModel) => All.FirstOrDefault(k => k.GgufModel == ggufModel);

    /// <summary>"gpt2 (byte-level BPE …), llama (SentencePiece BPE …)": the supported GGUF names, for error messages.</summary>
    public static string SupportedGgufModels => string.Join(", ", All.Select(k => $"{k.GgufModel} ({k.Description})"));
}

/// <summary>A kind's encoder of ordinary text and its token-to-bytes table; built once per tokenizer.</summary>
internal interface ITokenModel
{
    /// <summary>
    /// Appends the ids of <paramref name="text"/>, a run of ordinary text (no special tokens in it).
    /// <paramref name="atStart"/> is true at the start of the input and right after a special token.
    /// </summary>
    void Encode(ReadOnlySpan<char> text, bool atStart, List<int> ids);

    /// <summary>The bytes an ordinary (non-special) token decodes to.</summary>
    byte[] TokenBytes(int id);

    /// <summary>Whether decoding a whole sequence drops one leading space (the one the encoder prepended).</summary>
    bool StripsLeadingSpace { get; }
}
