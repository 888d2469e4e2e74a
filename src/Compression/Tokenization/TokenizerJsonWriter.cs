// TokenizerJsonWriter: writes TokenizerData as a Llama 3-style tokenizer.json and its tokenizer_config.json.
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Compression.Tokenization;

/// <summary>The writing half of <see cref="TokenizerJson"/>; the layout follows Meta's Llama 3 release files.</summary>
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
            if (data.TokenTypes[id] is not (TokenType.Control or TokenType.UserDefined)) continue;
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("content", data.Tokens[id]);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", data.TokenTypes[id] == TokenType.Control);
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteNull("normalizer");
        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("pretokenizers");
        w.WriteStartObject();
        w.WriteString("type", "Split");
        w.WriteStartObject("pattern");
        w.WriteString("Regex", Llama3PreTokenizer.Pattern);
        w.WriteEndObject();
        w.WriteString("behavior", "Isolated");
        w.WriteBoolean("invert", false);
        w.WriteEndObject();
        WriteByteLevel(w, addPrefixSpace: false, useRegex: false);
        w.WriteEndArray();
        w.WriteEndObject();

        WritePostProcessor(w, data);

        w.WritePropertyName("decoder");
        WriteByteLevel(w, addPrefixSpace: true, useRegex: true);

        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", data.IgnoreMerges);
        w.WriteStartObject("vocab");
        for (int id = 0; id < data.Tokens.Count; id++)
            if (data.TokenTypes[id] is not (TokenType.Control or TokenType.UserDefined)) w.WriteNumber(data.Tokens[id], id);
        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (string merge in data.Merges) w.WriteStringValue(merge);
        w.WriteEndArray();
        w.WriteEndObject();

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
