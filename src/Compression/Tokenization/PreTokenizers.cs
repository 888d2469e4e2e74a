// PreTokenizers: the registry of byte-level BPE pre-tokenizers — llama.cpp name, tokenizer.json regex, splitter, defaults.
namespace Compression.Tokenization;

/// <summary>Splits text into pre-tokens: appends (offset, length) in chars of each, in order.</summary>
public delegate void PreTokenSplitter(ReadOnlySpan<char> text, List<(int Offset, int Length)> destination);

/// <summary>One row of <see cref="PreTokenizers"/>.</summary>
/// <param name="Name">llama.cpp's <c>tokenizer.ggml.pre</c> value, as written to GGUF.</param>
/// <param name="Aliases">Other <c>tokenizer.ggml.pre</c> values llama.cpp maps to the same regex and flags.</param>
/// <param name="Split">The code-point splitter that implements <paramref name="Pattern"/>.</param>
/// <param name="Pattern">The Split regex of tokenizer.json's pre_tokenizer.</param>
/// <param name="IgnoreMerges">llama.cpp's ignore_merges for this pre-tokenizer (GGUF has no key for it).</param>
/// <param name="AddBos">llama.cpp's add_bos default for this pre-tokenizer when GGUF has no <c>add_bos_token</c>.</param>
public sealed record PreTokenizerInfo(string Name, string[] Aliases, string Pattern, PreTokenSplitter Split, bool IgnoreMerges, bool AddBos);

/// <summary>The pre-tokenizers of the supported byte-level BPE families; adding one is a splitter and a row.</summary>
public static class PreTokenizers
{
    /// <summary>Llama 3: digits in groups of up to three.</summary>
    public static PreTokenizerInfo Llama3 { get; } =
        new("llama-bpe", ["llama3", "llama-v3"], Llama3PreTokenizer.Pattern, Llama3PreTokenizer.Split, IgnoreMerges: true, AddBos: true);

    /// <summary>Qwen2/Qwen3: Llama 3's regex with single digits; llama.cpp sets neither ignore_merges nor add_bos.</summary>
    public static PreTokenizerInfo Qwen2 { get; } =
        new("qwen2", ["deepseek-r1-qwen"], Qwen2PreTokenizer.Pattern, Qwen2PreTokenizer.Split, IgnoreMerges: false, AddBos: false);

    /// <summary>Every supported pre-tokenizer.</summary>
    public static IReadOnlyList<PreTokenizerInfo> All { get; } = [Llama3, Qwen2];

    /// <summary>The row named <paramref name="name"/> (or one of its aliases), or null.</summary>
    public static PreTokenizerInfo? Find(string name) => All.FirstOrDefault(p => p.Name == name || p.Aliases.Contains(name));

    /// <summary>The row whose tokenizer.json regex is exactly <paramref name="pattern"/>, or null.</summary>
    public static PreTokenizerInfo? FindByPattern(string pattern) => All.FirstOrDefault(p => p.Pattern == pattern);

    /// <summary>The row named <paramref name="name"/>; an <see cref="ArgumentException"/> naming the supported ones otherwise.</summary>
    public static PreTokenizerInfo Get(string name) => Find(name)
        ?? throw new ArgumentException($"pre-tokenizer '{name}' is not supported; supported: {SupportedNames}");

    /// <summary>"llama-bpe, qwen2": the supported names, for error messages.</summary>
    public static string SupportedNames => string.Join(", ", All.Select(p => p.Name));
}
