// SyntheticTokenizer: a byte-level BPE tokenizer of any vocabulary size for synthetic checkpoints — merges learned
// from the project's synthetic corpus, padded with reserved special tokens, special tokens where Llama 3 has them.
using Compression.Tokenization;

namespace Compression.Training.Corpus;

/// <summary>
/// Builds a <see cref="TokenizerData"/> of exactly <c>vocabSize</c> entries, laid out as Llama 3's is:
/// ordinary tokens first (the 256 bytes, then merges learned by <see cref="BpeTrainer"/> from the synthetic
/// corpus), then unused <c>&lt;|reserved_special_token_N|&gt;</c> padding, then the special tokens at the end. With
/// Llama 3's 128,256 entries the last 256 ids are Llama 3's own special block in its order, so
/// <c>&lt;|begin_of_text|&gt;</c> = 128000, <c>&lt;|end_of_text|&gt;</c> = 128001, <c>&lt;|eot_id|&gt;</c> = 128009, <c>&lt;|python_tag|&gt;</c> = 128010,
/// then reserved_special_token_3 … _247; smaller vocabularies end with Llama 3's first ten special tokens.
/// The corpus's few hundred words saturate a few thousand merges, which is why the rest is padding (as Llama 3 pads
/// its special block with reserved tokens); the text a synthetic model sees tokenizes like real byte-level BPE.
/// </summary>
public static class SyntheticTokenizer
{
    /// <summary>Llama 3's vocabulary size and the size of its special-token block at the end of it.</summary>
    public const int Llama3VocabSize = 128_256, Llama3SpecialCount = 256;

    /// <summary>Most merges learned: beyond a few thousand the corpus has no pair left worth merging.</summary>
    public const int MaxLearnedTokens = 4096;

    /// <summary>Llama 3's highest reserved_special_token number (128255 = reserved_special_token_247).</summary>
    private const int LastReserved = 247;

    /// <summary>Characters of corpus text the merges are learned from (about a second of training).</summary>
    public const int CorpusChars = 400_000;

    /// <summary>The special tokens at the end of a vocabulary of <paramref name="vocabSize"/>, in id order.</summary>
    public static IReadOnlyList<string> SpecialTokens(int vocabSize)
    {
        if (vocabSize < Llama3VocabSize) return BpeTrainer.Llama3SpecialTokens;
        // Llama 3.1: its ten named tokens, <|python_tag|> (128010), then reserved_special_token_3 … _247 (0–2 are among the named ten).
        return [.. BpeTrainer.Llama3SpecialTokens, "<|python_tag|>", .. Enumerable.Range(3, LastReserved - 2).Select(Reserved)];
    }

    /// <summary>A tokenizer of exactly <paramref name="vocabSize"/> tokens; the same seed gives the same tokenizer.</summary>
    public static TokenizerData Build(int vocabSize, int seed = 0)
    {
        var specials = SpecialTokens(vocabSize);
        int ordinaryRoom = vocabSize - specials.Count;
        if (ordinaryRoom < 256)
            throw new ArgumentException($"vocab_size {vocabSize} is too small for a byte-level tokenizer: it needs 256 byte tokens + {specials.Count} special tokens");
        int learnTarget = Math.Min(ordinaryRoom, 256 + MaxLearnedTokens);
        var learned = BpeTrainer.Train(CorpusText(seed), learnTarget, specialTokens: []);

        var tokens = new List<string>(vocabSize);
        var types = new List<TokenType>(vocabSize);
        tokens.AddRange(learned.Tokens);
        types.AddRange(learned.TokenTypes);
        // Padding names continue past those the special block uses, so every name is distinct.
        int firstPadding = vocabSize < Llama3VocabSize ? 3 : LastReserved + 1;
        for (int k = 0; tokens.Count < ordinaryRoom; k++)
        {
            tokens.Add(Reserved(firstPadding + k));
            types.Add(TokenType.Control);
        }
        tokens.AddRange(specials);
        types.AddRange(Enumerable.Repeat(TokenType.Control, specials.Count));
        return new TokenizerData
        {
            Tokens = tokens,
            TokenTypes = types,
            Merges = learned.Merges,
            BosId = ordinaryRoom,
            EosId = ordinaryRoom + 1,
            AddBos = true,
            IgnoreMerges = true,
        };
    }

    private static string Reserved(int n) => $"<|reserved_special_token_{n}|>";

    private static IEnumerable<string> CorpusText(int seed)
    {
        long chars = 0;
        foreach (var doc in new CorpusGenerator(seed).Documents(CorpusSplit.Train))
        {
            yield return doc;
            if ((chars += doc.Length) >= CorpusChars) yield break;
        }
    }
}
