// TokenizerJsonReader: validates a parsed tokenizer.json / tokenizer_config.json into TokenizerData (FormatException on problems).
using System.Text.Json;

namespace Compression.Tokenization;

/// <summary>The parsing half of <see cref="TokenizerJson"/>; problems are <see cref="FormatException"/>s the caller tags with the file.</summary>
internal static class TokenizerJsonReader
{
    private const string DefaultBos = "<|begin_of_text|>";
    private const string DefaultEos = "<|end_of_text|>";

    public static TokenizerData Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("the top level is not a JSON object");
        if (!root.TryGetProperty("model", out JsonElement model) || model.ValueKind != JsonValueKind.Object)
            throw new FormatException("no \"model\" object");
        string? type = OptionalString(model, "type");
        if (type is not null && type != "BPE")
            throw new FormatException($"model.type is \"{type}\"; only BPE is supported (byte-level BPE: Llama 3, Qwen; BPE with byte_fallback: Llama 2, Mistral)");
        if (!string.IsNullOrEmpty(OptionalString(model, "continuing_subword_prefix")) || !string.IsNullOrEmpty(OptionalString(model, "end_of_word_suffix")))
            throw new FormatException("model.continuing_subword_prefix / end_of_word_suffix are not supported");
        bool sentencePiece = OptionalBool(model, "byte_fallback") == true;
        // Byte-level: the pre-tokenizer row its Split regex names, and NFC or no normalizer. SentencePiece: ▁ escaping and its space prefix.
        PreTokenizerInfo? pre = null;
        bool nfc = false, addSpacePrefix = false;
        if (sentencePiece) addSpacePrefix = CheckSentencePieceNormalization(root);
        else
        {
            nfc = CheckNormalizer(root);
            pre = CheckPreTokenizer(root);
        }
        string? unkToken = OptionalString(model, "unk_token");

        // Ids: model.vocab plus added_tokens must cover 0..N-1 exactly.
        var byId = new Dictionary<int, (string Text, TokenType Type)>();
        var byText = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!model.TryGetProperty("vocab", out JsonElement vocab) || vocab.ValueKind != JsonValueKind.Object)
            throw new FormatException("model.vocab is missing or not an object");
        foreach (JsonProperty entry in vocab.EnumerateObject())
        {
            TokenType vocabType = !sentencePiece ? TokenType.Normal
                : entry.Name == unkToken ? TokenType.Unknown
                : SentencePieceBpeModel.ParseByteToken(entry.Name) is not null ? TokenType.Byte : TokenType.Normal;
            AddToken(byId, byText, entry.Name, entry.Value.GetInt32(), vocabType, "model.vocab");
        }
        if (root.TryGetProperty("added_tokens", out JsonElement added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement token in added.EnumerateArray())
            {
                string content = OptionalString(token, "content") ?? throw new FormatException("an added_tokens entry has no \"content\"");
                int id = token.TryGetProperty("id", out JsonElement idElement) ? idElement.GetInt32() : throw new FormatException($"added token \"{content}\" has no \"id\"");
                TokenType tokenType = content == unkToken ? TokenType.Unknown : OptionalBool(token, "special") == true ? TokenType.Control : TokenType.UserDefined;
                if (byId.TryGetValue(id, out var existing) && existing.Text == content) byId[id] = (content, tokenType);
                else AddToken(byId, byText, content, id, tokenType, "added_tokens");
            }
        }
        int n = byId.Count;
        if (n == 0) throw new FormatException("the vocabulary is empty");
        var tokens = new string[n];
        var types = new TokenType[n];
        foreach (var (id, (text, tokenType)) in byId)
        {
            if (id >= n) throw new FormatException($"token id {id} (\"{text}\") is beyond the vocabulary of {n} tokens (ids must run 0..{n - 1})");
            tokens[id] = text;
            types[id] = tokenType;
        }
        var merges = ReadMerges(model, byText);
        (int? bos, bool addBos) = ReadTemplate(root, byText);
        string defaultBos = sentencePiece ? "<s>" : DefaultBos, defaultEos = sentencePiece ? "</s>" : DefaultEos;
        var data = new TokenizerData
        {
            Kind = sentencePiece ? TokenizerKind.SentencePieceBpe : TokenizerKind.ByteLevelBpe,
            Tokens = tokens,
            TokenTypes = types,
            Merges = merges,
            BosId = bos ?? (byText.TryGetValue(defaultBos, out int b0) ? b0 : null),
            EosId = byText.TryGetValue(defaultEos, out int e0) ? e0 : null,
            AddBos = addBos,
            IgnoreMerges = OptionalBool(model, "ignore_merges") ?? false,
            Pre = pre?.Name ?? PreTokenizers.Llama3.Name,
            AddSpacePrefix = sentencePiece ? addSpacePrefix : true,
            NormalizeNfc = nfc,
        };
        if (sentencePiece)
        {
            for (int b = 0; b < 256; b++)
                if (!byText.ContainsKey($"<0x{b:X2}>")) throw new FormatException($"model.byte_fallback is true but model.vocab has no byte token <0x{b:X2}>");
            return data;
        }
        for (int b = 0; b < 256; b++)
        {
            string single = ByteLevel.Char((byte)b).ToString();
            if (!byText.TryGetValue(single, out int id) || types[id] != TokenType.Normal)
                throw new FormatException($"model.vocab has no byte-level token for byte 0x{b:X2} (\"{single}\"); not a byte-level BPE");
        }
        return data;
    }

    /// <summary>tokenizer_config.json overrides: add_bos_token, bos_token, eos_token (string or {"content": ...}).</summary>
    public static TokenizerData ApplyConfig(TokenizerData data, JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object) throw new FormatException("the top level is not a JSON object");
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < data.Tokens.Count; i++) ids.TryAdd(data.Tokens[i], i);
        int? Lookup(string key, int? fallback)
        {
            if (!config.TryGetProperty(key, out JsonElement value)) return fallback;
            string? name = value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Object => OptionalString(value, "content"),
                _ => throw new FormatException($"\"{key}\" is neither a string nor an object"),
            };
            if (name is null) return null;
            return ids.TryGetValue(name, out int id) ? id : throw new FormatException($"{key} \"{name}\" is not a token of the vocabulary");
        }
        return data with
        {
            BosId = Lookup("bos_token", data.BosId),
            EosId = Lookup("eos_token", data.EosId),
            AddBos = OptionalBool(config, "add_bos_token") ?? data.AddBos,
        };
    }

    private static void AddToken(Dictionary<int, (string, TokenType)> byId, Dictionary<string, int> byText, string text, int id, TokenType type, string where)
    {
        if (id < 0) throw new FormatException($"{where}: token \"{text}\" has negative id {id}");
        if (!byId.TryAdd(id, (text, type))) throw new FormatException($"{where}: id {id} is used by both \"{byId[id].Item1}\" and \"{text}\"");
        if (!byText.TryAdd(text, id)) throw new FormatException($"{where}: token \"{text}\" has two ids ({byText[text]} and {id})");
    }

    private static List<string> ReadMerges(JsonElement model, Dictionary<string, int> byText)
    {
        if (!model.TryGetProperty("merges", out JsonElement merges) || merges.ValueKind != JsonValueKind.Array)
            throw new FormatException("model.merges is missing or not an array");
        var result = new List<string>(merges.GetArrayLength());
        int rank = 0;
        foreach (JsonElement merge in merges.EnumerateArray())
        {
            string left, right;
            if (merge.ValueKind == JsonValueKind.String)
            {
                string s = merge.GetString()!;
                int space = s.IndexOf(' ');
                if (space <= 0 || space == s.Length - 1 || s.IndexOf(' ', space + 1) >= 0)
                    throw new FormatException($"merge {rank} \"{s}\" is not two tokens separated by one space");
                (left, right) = (s[..space], s[(space + 1)..]);
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                left = merge[0].GetString()!;
                right = merge[1].GetString()!;
                if (left.Contains(' ') || right.Contains(' ') || left.Length == 0 || right.Length == 0)
                    throw new FormatException($"merge {rank} [\"{left}\", \"{right}\"] has an empty part or a space (not byte-level)");
            }
            else throw new FormatException($"merge {rank} is neither \"a b\" nor [\"a\", \"b\"]");
            foreach (string part in new[] { left, right, left + right })
                if (!byText.ContainsKey(part)) throw new FormatException($"merge {rank} \"{left} {right}\": \"{part}\" is not in the vocabulary");
            result.Add(left + " " + right);
            rank++;
        }
        return result;
    }

    /// <summary>BOS from the TemplateProcessing post-processor (possibly inside a Sequence): the special token that leads "single".</summary>
    private static (int? Bos, bool AddBos) ReadTemplate(JsonElement root, Dictionary<string, int> byText)
    {
        if (!root.TryGetProperty("post_processor", out JsonElement post) || post.ValueKind != JsonValueKind.Object) return (null, false);
        JsonElement? template = FindByType(post, "TemplateProcessing", "processors");
        if (template is not JsonElement t || !t.TryGetProperty("single", out JsonElement single) || single.ValueKind != JsonValueKind.Array
            || single.GetArrayLength() == 0 || !single[0].TryGetProperty("SpecialToken", out JsonElement first))
            return (null, false);
        string name = OptionalString(first, "id") ?? throw new FormatException("post_processor: the leading SpecialToken has no id");
        if (t.TryGetProperty("special_tokens", out JsonElement specials) && specials.TryGetProperty(name, out JsonElement special)
            && special.TryGetProperty("ids", out JsonElement ids) && ids.ValueKind == JsonValueKind.Array && ids.GetArrayLength() == 1)
        {
            int id = ids[0].GetInt32();
            if (!byText.TryGetValue(name, out int known) || known != id)
                throw new FormatException($"post_processor: special token \"{name}\" has id {id}, which is not that token in the vocabulary");
            return (id, true);
        }
        return byText.TryGetValue(name, out int byName) ? (byName, true) : throw new FormatException($"post_processor: special token \"{name}\" is not in the vocabulary");
    }

    /// <summary>Byte-level BPE: no normalizer (Llama 3) or NFC (Qwen); returns whether it is NFC.</summary>
    private static bool CheckNormalizer(JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out JsonElement normalizer) || normalizer.ValueKind == JsonValueKind.Null) return false;
        string? type = OptionalString(normalizer, "type");
        if (type == "NFC") return true;
        throw new FormatException($"normalizer \"{type}\" is not supported for a byte-level BPE (supported: none, as Llama 3; NFC, as Qwen)");
    }

    /// <summary>
    /// Byte-level BPE: Split on one of the registered patterns (<see cref="PreTokenizers"/>), then ByteLevel without its own regex.
    /// </summary>
    private static PreTokenizerInfo CheckPreTokenizer(JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out JsonElement pre) || pre.ValueKind != JsonValueKind.Object)
            throw new FormatException("no pre_tokenizer; expected a Split regex + ByteLevel (Llama 3 or Qwen)");
        JsonElement? split = FindByType(pre, "Split", "pretokenizers");
        JsonElement? byteLevel = FindByType(pre, "ByteLevel", "pretokenizers");
        string? pattern = split is JsonElement s && s.TryGetProperty("pattern", out JsonElement p) ? OptionalString(p, "Regex") : null;
        var info = pattern is null ? null : PreTokenizers.FindByPattern(pattern);
        if (info is null)
            throw new FormatException($"pre_tokenizer regex is {(pattern is null ? "missing" : $"\"{pattern}\"")}; supported: the regexes of {PreTokenizers.SupportedNames}");
        if (byteLevel is not JsonElement bl) throw new FormatException("pre_tokenizer has no ByteLevel step; not a byte-level BPE");
        if (OptionalBool(bl, "use_regex") == true || OptionalBool(bl, "add_prefix_space") == true)
            throw new FormatException("pre_tokenizer ByteLevel with use_regex or add_prefix_space is GPT-2 style, not Llama 3 or Qwen; not supported");
        return info;
    }

    /// <summary>
    /// BPE with byte_fallback (Llama 2, Mistral): spaces become "▁", and a "▁" goes before the text — either the
    /// legacy normalizer Sequence [Prepend "▁", Replace " " → "▁"] with no pre-tokenizer, or no normalizer and a
    /// Metaspace pre-tokenizer (replacement "▁", split false). Returns whether a "▁" is prepended. Metaspace's
    /// prepend_scheme "first" prefixes only the first text segment where llama.cpp (whose behaviour is kept) also
    /// prefixes text after a special token; the two differ only with special tokens inside the text.
    /// </summary>
    private static bool CheckSentencePieceNormalization(JsonElement root)
    {
        JsonElement normalizer = root.TryGetProperty("normalizer", out JsonElement n) ? n : default;
        JsonElement pre = root.TryGetProperty("pre_tokenizer", out JsonElement p) ? p : default;
        bool hasNormalizer = normalizer.ValueKind == JsonValueKind.Object, hasPre = pre.ValueKind == JsonValueKind.Object;
        if (hasNormalizer && !hasPre)
        {
            JsonElement? replace = FindByType(normalizer, "Replace", "normalizers");
            if (replace is not JsonElement r || OptionalString(r, "content") != "\u2581"
                || !r.TryGetProperty("pattern", out JsonElement pattern) || OptionalString(pattern, "String") != " ")
                throw new FormatException("a byte_fallback BPE needs a normalizer that replaces \" \" with \"\u2581\" (SentencePiece style)");
            return FindByType(normalizer, "Prepend", "normalizers") is JsonElement prepend && OptionalString(prepend, "prepend") == "\u2581";
        }
        if (!hasNormalizer && hasPre && OptionalString(pre, "type") == "Metaspace")
        {
            if (OptionalString(pre, "replacement") is string rep && rep != "\u2581")
                throw new FormatException($"pre_tokenizer Metaspace replacement \"{rep}\" is not \"\u2581\"");
            if (OptionalBool(pre, "split") == true)
                throw new FormatException("pre_tokenizer Metaspace with split = true is not supported (Llama 2 and Mistral use split = false)");
            string scheme = OptionalString(pre, "prepend_scheme") ?? (OptionalBool(pre, "add_prefix_space") == false ? "never" : "always");
            return scheme != "never";
        }
        throw new FormatException("a byte_fallback BPE needs SentencePiece-style normalization: normalizer [Prepend \"\u2581\", Replace \" \" → \"\u2581\"] or pre_tokenizer Metaspace");
    }

    private static JsonElement? FindByType(JsonElement node, string type, string childrenKey)
    {
        if (node.ValueKind != JsonValueKind.Object) return null;
        if (OptionalString(node, "type") == type) return node;
        if (node.TryGetProperty(childrenKey, out JsonElement children) && children.ValueKind == JsonValueKind.Array)
            foreach (JsonElement child in children.EnumerateArray())
                if (FindByType(child, type, childrenKey) is JsonElement found) return found;
        return null;
    }

    private static string? OptionalString(JsonElement obj, string key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out JsonElement v) && v.ValueKind != JsonValueKind.Null ? v.GetString() : null;

    private static bool? OptionalBool(JsonElement obj, string key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out JsonElement v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
}
