// TokenizerJsonWriter: writes TokenizerData as a tokenizer.json in its family's layout (Llama 3, Qwen, Llama 2) and its tokenizer_config.json.
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Compression.Tokenization;

/// <summary>
/// The writing half of <see cref="TokenizerJson"/>; the layout follows the release files: Meta's Llama 3 (byte-level
/// BPE), Qwen2's (its regex and NFC), Meta's Llama 2 (SentencePiece BPE with byte fallback, as transformers converts it).
/// </summary>
internal static class TokenizerJsonWriter
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        // Keep "Ġthe" readable as Hugging Face writes it; JSON stays valid either way.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void WriteTokenizer(TokenizerData data, Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, Options);
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");

        w.WriteStartArray("added_tokens");
        for (int id = 0; id < data.Tokens.Count; id++)
        {
            if (!LlamaTokenizer.IsSpecialType(data.TokenTypes[id])) continue;
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("content", data.Tokens[id]);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", data.TokenTypes[id] != TokenType.UserDefined);
            w.WriteEndObject();
        }
        w.WriteEndArray();

        if (data.Kind == TokenizerKind.SentencePieceBpe) WriteSentencePieceNormalizer(w, data);
        else
        {
            if (data.NormalizeNfc)
            {
                w.WriteStartObject("normalizer");
                w.WriteString("type", "NFC");
                w.WriteEndObject();
            }
            else w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("pretokenizers");
            w.WriteStartObject();
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", PreTokenizers.Get(data.Pre).Pattern);
            w.WriteEndObject();
            w.WriteString("behavior", "Isolated");
            w.WriteBoolean("invert", false);
            w.WriteEndObject();
            WriteByteLevel(w, addPrefixSpace: false, useRegex: false);
            w.WriteEndArray();
            w.WriteEndObject();
        }

        WritePostProcessor(w, data);

        w.WritePropertyName("decoder");
        if (data.Kind == TokenizerKind.SentencePieceBpe) WriteSentencePieceDecoder(w);
        else WriteByteLevel(w, addPrefixSpace: true, useRegex: true);

        bool sentencePiece = data.Kind == TokenizerKind.SentencePieceBpe;
        int unk = data.TokenTypes.ToList().IndexOf(TokenType.Unknown);
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        if (sentencePiece && unk >= 0) w.WriteString("unk_token", data.Tokens[unk]); else w.WriteNull("unk_token");
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", sentencePiece);
        w.WriteBoolean("byte_fallback", sentencePiece);
        w.WriteBoolean("ignore_merges", data.IgnoreMerges);
        w.WriteStartObject("vocab");
        // Llama 2's file keeps its special tokens in the vocabulary too; Llama 3's and Qwen's only in added_tokens.
        for (int id = 0; id < data.Tokens.Count; id++)
            if (sentencePiece || !LlamaTokenizer.IsSpecialType(data.TokenTypes[id])) w.WriteNumber(data.Tokens[id], id);
        w.WriteEndObject();
        w.WriteStartArray("merges");
        var merges = sentencePiece && data.Merges.Count == 0 ? SentencePieceMerges.FromScores(data) : data.Merges;
        foreach (string merge in merges) w.WriteStringValue(merge);
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteEndObject();
    }

    /// <summary>Llama 2's normalizer: Prepend "▁" (when a space is prefixed), then Replace " " → "▁"; no pre-tokenizer.</summary>
    private static void WriteSentencePieceNormalizer(Utf8JsonWriter w, TokenizerData data)
    {
        w.WriteStartObject("normalizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("normalizers");
        if (data.AddSpacePrefix)
        {
            w.WriteStartObject();
            w.WriteString("type", "Prepend");
            w.WriteString("prepend", "\u2581");
            w.WriteEndObject();
        }
        w.WriteStartObject();
        w.WriteString("type", "Replace");
        w.WriteStartObject("pattern");
        w.WriteString("String", " ");
        w.WriteEndObject();
        w.WriteString("content", "\u2581");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteNull("pre_tokenizer");
    }

    /// <summary>Llama 2's decoder: Replace "▁" → " ", ByteFallback, Fuse, Strip one leading space.</summary>
    private static void WriteSentencePieceDecoder(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("type", "Sequence");
        w.WriteStartArray("decoders");
        w.WriteStartObject();
        w.WriteString("type", "Replace");
        w.WriteStartObject("pattern");
        w.WriteString("String", "\u2581");
        w.WriteEndObject();
        w.WriteString("content", " ");
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("type", "ByteFallback");
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("type", "Fuse");
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("type", "Strip");
        w.WriteString("content", " ");
        w.WriteNumber("start", 1);
        w.WriteNumber("stop", 0);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>TemplateProcessing: "single" = [BOS] $A when BOS is added, else $A alone.</summary>
    private static void WritePostProcessor(Utf8JsonWriter w, TokenizerData data)
    {
        string? bos = data.AddBos && data.BosId is int b ? data.Tokens[b] : null;
        w.WriteStartObject("post_processor");
        w.WriteString("type", "TemplateProcessing");
        w.WriteStartArray("single");
        if (bos is not null) WriteSpecialItem(w, bos, 0);
        WriteSequenceItem(w, "A", 0);
        w.WriteEndArray();
        w.WriteStartArray("pair");
        if (bos is not null) WriteSpecialItem(w, bos, 0);
        WriteSequenceItem(w, "A", 0);
        if (bos is not null) WriteSpecialItem(w, bos, 1);
        WriteSequenceItem(w, "B", 1);
        w.WriteEndArray();
        w.WriteStartObject("special_tokens");
        if (bos is not null)
        {
            w.WriteStartObject(bos);
            w.WriteString("id", bos);
            w.WriteStartArray("ids");
            w.WriteNumberValue(data.BosId!.Value);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            w.WriteStringValue(bos);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSpecialItem(Utf8JsonWriter w, string token, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject("SpecialToken");
        w.WriteString("id", token);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSequenceItem(Utf8JsonWriter w, string which, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject("Sequence");
        w.WriteString("id", which);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteByteLevel(Utf8JsonWriter w, bool addPrefixSpace, bool useRegex)
    {
        w.WriteStartObject();
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", useRegex);
        w.WriteEndObject();
    }

    /// <summary>tokenizer_config.json: the fields <see cref="TokenizerJsonReader.ApplyConfig"/> reads, as a Llama 3 release writes them.</summary>
    public static void WriteConfig(TokenizerData data, Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, Options);
        w.WriteStartObject();
        w.WriteBoolean("add_bos_token", data.AddBos);
        w.WriteBoolean("add_eos_token", false);
        if (data.BosId is int b) w.WriteString("bos_token", data.Tokens[b]); else w.WriteNull("bos_token");
        if (data.EosId is int e) w.WriteString("eos_token", data.Tokens[e]); else w.WriteNull("eos_token");
        // False: HF's clean-up would rewrite " ." etc. and break decode(encode(x)) == x.
        w.WriteBoolean("clean_up_tokenization_spaces", false);
        w.WriteNumber("model_max_length", 131072);
        w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        w.WriteEndObject();
    }
}
