// GgufTokenizer: a TokenizerData from and to GGUF's tokenizer.ggml.* keys, for every kind in TokenizerKinds.
using Compression.Tokenization;

namespace Compression.Checkpoints.Gguf;

/// <summary>Reads and writes <c>tokenizer.ggml.*</c> as llama.cpp's converter writes and its loader reads them.</summary>
public static class GgufTokenizer
{
    private const string P = "tokenizer.ggml.";

    /// <summary>
    /// The vocabulary in <paramref name="f"/>, or null when it has none (no <c>tokenizer.ggml.model</c>, or
    /// <c>no_vocab</c>). An unsupported model or pre-tokenizer is an <see cref="InvalidDataException"/> naming the supported ones.
    /// </summary>
    public static TokenizerData? Read(GgufFile f)
    {
        string? model = f.TryGetString(P + "model");
        if (model is null or "no_vocab" or "none") return null;
        var kind = TokenizerKinds.FromGguf(model)
            ?? throw new InvalidDataException($"{f.Path}: {P}model '{model}' is not supported; supported: {TokenizerKinds.SupportedGgufModels}");
        var tokens = f.GetStringArray(P + "tokens");
        var types = ReadTypes(f, tokens.Length);

        int? Id(string key, int? fallback)
        {
            if (f.TryGetUInt32(P + key) is not uint id) return fallback is int d && d < tokens.Length ? d : null;
            if (id >= tokens.Length) throw new InvalidDataException($"{f.Path}: {P}{key} = {id} is outside the vocabulary of {tokens.Length} tokens");
            return (int)id;
        }
        bool? addBos = f.TryGetBool(P + "add_bos_token");
        switch (kind.Kind)
        {
            case TokenizerKind.ByteLevelBpe:
            {
                string pre = f.TryGetString(P + "pre")
                    ?? throw new InvalidDataException($"{f.Path}: {P}pre is missing; supported pre-tokenizers: {PreTokenizers.SupportedNames}");
                var info = PreTokenizers.Find(pre)
                    ?? throw new InvalidDataException($"{f.Path}: {P}pre '{pre}' is not supported; supported: {PreTokenizers.SupportedNames}");
                return new TokenizerData
                {
                    Kind = kind.Kind, Tokens = tokens, TokenTypes = types,
                    Merges = f.TryGetArray<string>(P + "merges") ?? throw new InvalidDataException($"{f.Path}: {P}merges is missing (a gpt2 tokenizer needs them)"),
                    BosId = Id("bos_token_id", null), EosId = Id("eos_token_id", null),
                    AddBos = addBos ?? info.AddBos, Pre = pre, IgnoreMerges = info.IgnoreMerges,
                };
            }
            case TokenizerKind.SentencePieceBpe:
                return new TokenizerData
                {
                    Kind = kind.Kind, Tokens = tokens, TokenTypes = types, Merges = [],
                    Scores = ReadScores(f, tokens.Length),
                    BosId = Id("bos_token_id", 1), EosId = Id("eos_token_id", 2), // llama.cpp's defaults for a llama vocabulary
                    AddBos = addBos ?? true, AddSpacePrefix = f.TryGetBool(P + "add_space_prefix") ?? true,
                };
            default:
                throw new InvalidDataException($"{f.Path}: {P}model '{model}' is not supported; supported: {TokenizerKinds.SupportedGgufModels}");
        }
    }

    /// <summary>
    /// The tokenizer with ids from its last token up to <paramref name="vocabSize"/> filled by "[PAD{id}]" tokens of type
    /// Unused (score 0), as llama.cpp's convert_hf_to_gguf.py does: llama.cpp takes n_vocab from the token list and refuses a
    /// token_embd with more rows (the proxy has 971 tokens and 1024 embedding rows).
    /// </summary>
    public static TokenizerData? PaddedTo(TokenizerData? tokenizer, int vocabSize)
    {
        if (tokenizer is null || tokenizer.Tokens.Count >= vocabSize) return tokenizer;
        int n = tokenizer.Tokens.Count;
        return tokenizer with
        {
            Tokens = [.. tokenizer.Tokens, .. Enumerable.Range(n, vocabSize - n).Select(i => $"[PAD{i}]")],
            TokenTypes = [.. tokenizer.TokenTypes, .. Enumerable.Repeat(TokenType.Unused, vocabSize - n)],
            Scores = tokenizer.Scores is null ? null : [.. tokenizer.Scores, .. new float[vocabSize - n]],
        };
    }

    /// <summary>Adds the <c>tokenizer.ggml.*</c> keys of <paramref name="t"/>; <paramref name="bos"/>/<paramref name="eos"/> are written when not null.</summary>
    public static void Write(GgufWriter w, TokenizerData t, int? bos, int? eos)
    {
        var kind = TokenizerKinds.Get(t.Kind);
        w.AddString(P + "model", kind.GgufModel);
        if (t.Kind == TokenizerKind.ByteLevelBpe) w.AddString(P + "pre", t.Pre);
        w.AddStringArray(P + "tokens", t.Tokens);
        if (t.Kind == TokenizerKind.SentencePieceBpe)
            w.AddFloat32Array(P + "scores", t.Scores ?? SentencePieceMerges.ScoresFromMerges(t));
        w.AddInt32Array(P + "token_type", t.TokenTypes.Select(x => (int)x));
        if (t.Kind == TokenizerKind.ByteLevelBpe) w.AddStringArray(P + "merges", t.Merges);
        if (bos is int b) w.AddUInt32(P + "bos_token_id", (uint)b);
        if (eos is int e) w.AddUInt32(P + "eos_token_id", (uint)e);
        int unk = t.TokenTypes.ToList().IndexOf(TokenType.Unknown);
        if (unk >= 0) w.AddUInt32(P + "unknown_token_id", (uint)unk);
        w.AddBool(P + "add_bos_token", t.AddBos);
        if (t.Kind == TokenizerKind.SentencePieceBpe) w.AddBool(P + "add_space_prefix", t.AddSpacePrefix);
    }

    private static TokenType[] ReadTypes(GgufFile f, int n)
    {
        if (!f.TryGetValue(P + "token_type", out var tt)) return Enumerable.Repeat(TokenType.Normal, n).ToArray();
        var types = new TokenType[n];
        if (tt.Value is not Array arr || arr.Length != n)
            throw new InvalidDataException($"{f.Path}: {P}token_type should be an array of {n} integers but is {tt.TypeName} {tt}");
        for (int i = 0; i < arr.Length; i++)
        {
            long code = arr.GetValue(i) switch { int v => v, uint v => v, long v => v, short v => v, ushort v => v, byte v => v, sbyte v => v, _ => -1 };
            if (code is < 0 or > 6)
                throw new InvalidDataException($"{f.Path}: {P}token_type[{i}] = {code} is not a llama token type (0-6)");
            types[i] = (TokenType)code;
        }
        return types;
    }

    /// <summary>tokenizer.ggml.scores as float32 (llama.cpp also takes int32); null when absent (every score 0).</summary>
    private static float[]? ReadScores(GgufFile f, int n)
    {
        if (!f.TryGetValue(P + "scores", out var v)) return null;
        float[] scores = v.Value switch
        {
            float[] fl => fl,
            int[] iv => [.. iv.Select(x => (float)x)],
            _ => throw new InvalidDataException($"{f.Path}: {P}scores should be an array of float32 but is {v.TypeName}"),
        };
        if (scores.Length < n) throw new InvalidDataException($"{f.Path}: {P}scores has {scores.Length} entries for {n} tokens");
        return scores.Length == n ? scores : scores[..n];
    }
}
