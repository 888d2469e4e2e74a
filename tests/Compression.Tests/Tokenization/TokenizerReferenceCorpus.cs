// TokenizerReferenceCorpus: the texts every tokenizer kind is compared with llama.cpp on, and a metadata-only GGUF writer.
using Compression.Checkpoints.Gguf;
using Compression.Tokenization;

namespace Compression.Tests.Tokenization;

internal static class TokenizerReferenceCorpus
{
    /// <summary>Unicode, digits, whitespace runs, code, contractions, emojis, special-token text, edge cases.</summary>
    public static readonly string[] Texts =
    [
        "",
        " ",
        "  ",
        "Hello world",
        " Hello world",
        "Hello  world   with    runs of spaces ",
        "the clock is only a very stubborn way of counting.",
        "She didn't hurry; she'd learned that hurrying was the most expensive tool.",
        "I'M SURE you'LL say it's 'quoted' 'sTuff ain't, we've, they're",
        "digits 1 12 123 1234 12345678901234567890 3.14159 -42 1,000,000 ٣٤٥ ½",
        "lines\r\n\r\n  indented\n\ttabs\t\t\n\n\n end   ",
        "\n\n\nleading newlines",
        "trailing newline\n",
        "    for (int i = 0; i < n; i++) { sum += x[i] * 2; }\n\treturn sum;\n",
        "def f(x):\n    return x ** 2  # square\n",
        "if (a != b && c >= d || !e) { printf(\"%d\\n\", a->b); }",
        "Ünder naïve café, Ångström, résumé, Zürich",
        "時計の針は 東京 北京 서울 ไทย Привет мир",
        "emoji 🙂👍🏽🇫🇷 👨‍👩‍👧 and 𝐁𝐨𝐥𝐝 𠀀𠀁",
        "\u00A0nbsp\u2003em\u3000ideographic\u2028sep",
        "<s> looks special </s> and <unk> too",
        "a<s>b</s>c",
        "[INST] What is 2+2? [/INST] It is 4.</s>[INST]<tool> call <tool>now",
        "<|endoftext|><|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
        "Ⅻ ⅷ ① ², ³ and ¼ are numbers too",
        "x\u0301 combining acute, e\u0301 decomposed é",
        "aaaaaaaaaaaaaaaa bbbbbbbb ,,,,,,,, ........ ------",
        "   \n   \n",
    ];

    /// <summary>
    /// Writes <paramref name="data"/> as a GGUF with a tiny llama architecture's keys and no tensors: enough for
    /// llama.cpp's vocab_only load and for <see cref="GgufTokenizer.Read"/>.
    /// </summary>
    public static string WriteVocabGguf(TokenizerData data, string tag)
    {
        string path = Path.Combine(TestPaths.NewTempDir(tag), "vocab.gguf");
        using var w = new GgufWriter(path);
        w.AddString("general.architecture", "llama");
        w.AddString("general.name", tag);
        const string p = "llama.";
        w.AddUInt32(p + "context_length", 256);
        w.AddUInt32(p + "embedding_length", 64);
        w.AddUInt32(p + "block_count", 1);
        w.AddUInt32(p + "feed_forward_length", 128);
        w.AddUInt32(p + "attention.head_count", 4);
        w.AddUInt32(p + "attention.head_count_kv", 4);
        w.AddUInt32(p + "rope.dimension_count", 16);
        w.AddFloat32(p + "rope.freq_base", 10000f);
        w.AddFloat32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
        w.AddUInt32(p + "vocab_size", (uint)data.Tokens.Count);
        GgufTokenizer.Write(w, data, data.BosId, data.EosId);
        w.Complete();
        return path;
    }

    /// <summary>The vocabulary of a GGUF as the workbench reads it.</summary>
    public static TokenizerData ReadVocabGguf(string path)
    {
        using var f = GgufFile.Open(path);
        return GgufTokenizer.Read(f)!;
    }
}
