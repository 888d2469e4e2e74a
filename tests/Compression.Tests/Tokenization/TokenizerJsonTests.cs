// Tests for TokenizerJson: fixture metadata, Save→Load round trip, clear errors on malformed files.
using System.Text.Json.Nodes;
using Compression.Tokenization;

namespace Compression.Tests.Tokenization;

public class TokenizerJsonTests
{
    private static readonly string FixturePath = TestPaths.TinyLlamaFile("tokenizer.json");

    [Fact]
    public void Loads_the_fixture()
    {
        TokenizerData d = TokenizerJson.Load(FixturePath);
        Assert.Equal(512, d.Tokens.Count);
        Assert.Equal(254, d.Merges.Count);
        Assert.Equal("Ġ t", d.Merges[0]);
        Assert.Equal(TokenType.Control, d.TokenTypes[510]);
        Assert.Equal(TokenType.Control, d.TokenTypes[511]);
        Assert.Equal(TokenType.Normal, d.TokenTypes[509]);
        Assert.Equal((510, 511), (d.BosId, d.EosId));
        Assert.True(d.AddBos);
        Assert.True(d.IgnoreMerges);
    }

    [Fact]
    public void Save_then_load_is_identical_and_tokenizes_the_same()
    {
        TokenizerData original = TokenizerJson.Load(FixturePath);
        string dir = TestPaths.NewTempDir("tokjson");
        string path = Path.Combine(dir, "tokenizer.json");
        TokenizerJson.Save(original, path);
        TokenizerData loaded = TokenizerJson.Load(path);
        Assert.True(original.ContentEquals(loaded));
        Assert.True(File.Exists(Path.Combine(dir, TokenizerJson.ConfigFileName)));
        Assert.Equal(2, Directory.GetFiles(dir).Length);   // no temp files left behind
        var tok = new LlamaTokenizer(loaded);
        foreach ((string text, int[] ids) in TokenizerFixture.Cases) Assert.Equal(ids, tok.Encode(text));
    }

    [Fact]
    public void Settings_round_trip_without_bos()
    {
        TokenizerData d = TokenizerJson.Load(FixturePath) with { AddBos = false, EosId = null };
        string path = Path.Combine(TestPaths.NewTempDir("tokjson"), "tokenizer.json");
        TokenizerJson.Save(d, path);
        TokenizerData loaded = TokenizerJson.Load(path);
        Assert.True(d.ContentEquals(loaded));
        Assert.Equal(new LlamaTokenizer(d).Encode("hi"), new LlamaTokenizer(loaded).Encode("hi"));
    }

    [Fact]
    public void Merges_as_pairs_read_like_merges_as_strings()
    {
        JsonObject json = FixtureJson();
        var merges = json["model"]!["merges"]!.AsArray();
        var pairs = new JsonArray([.. merges.Select(m => (JsonNode)new JsonArray([.. m!.GetValue<string>().Split(' ').Select(p => (JsonNode)JsonValue.Create(p)!)]))]);
        json["model"]!["merges"] = pairs;
        string path = WriteBeside(json, withConfig: true);
        Assert.True(TokenizerJson.Load(FixturePath).ContentEquals(TokenizerJson.Load(path)));
    }

    [Fact]
    public void Without_config_bos_comes_from_the_template()
    {
        string path = WriteBeside(FixtureJson(), withConfig: false);
        TokenizerData d = TokenizerJson.Load(path);
        Assert.Equal(510, d.BosId);
        Assert.True(d.AddBos);
        Assert.Equal(511, d.EosId);
    }

    public static TheoryData<string, string> Malformations() => new()
    {
        { "not-json", "not valid JSON" },
        { "wordpiece", "only BPE" },
        { "id-beyond", "beyond the vocabulary" },
        { "duplicate-id", "is used by both" },
        { "merge-unknown", "is not in the vocabulary" },
        { "merge-shape", "not two tokens" },
        { "no-byte", "byte 0x" },
        { "gpt2-regex", "supported: the regexes of llama-bpe, qwen2" },
        { "wordpiece-type-names-kinds", "Llama 2, Mistral" },
        { "byte-fallback-without-metaspace", "SentencePiece-style normalization" },
        { "byte-fallback-no-byte-tokens", "no byte token <0x00>" },
        { "bad-normalizer", "NFC, as Qwen" },
        { "string-id", "" },
        { "no-model", "no \"model\"" },
    };

    [Theory]
    [MemberData(nameof(Malformations))]
    public void Malformed_files_give_errors_naming_the_file(string kind, string problem)
    {
        JsonObject json = FixtureJson();
        var model = json["model"]!.AsObject();
        var vocab = model["vocab"]!.AsObject();
        switch (kind)
        {
            case "wordpiece": model["type"] = "WordPiece"; break;
            case "id-beyond": vocab["zzz"] = 100_000; break;
            case "duplicate-id": vocab["zzz"] = 5; break;
            case "merge-unknown": model["merges"]!.AsArray().Add("Ġ qqqq"); break;
            case "merge-shape": model["merges"]!.AsArray().Add("abc"); break;
            case "no-byte": vocab["zz"] = vocab["!"]!.GetValue<int>(); vocab.Remove("!"); break;
            case "gpt2-regex": json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"; break;
            case "string-id": vocab["zzz"] = "seven"; break;
            case "wordpiece-type-names-kinds": model["type"] = "Unigram"; break;
            case "byte-fallback-without-metaspace": model["byte_fallback"] = true; break;
            case "byte-fallback-no-byte-tokens":
                model["byte_fallback"] = true;
                json["pre_tokenizer"] = JsonNode.Parse("""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false}""");
                break;
            case "bad-normalizer": json["normalizer"] = JsonNode.Parse("""{"type": "NFKC"}"""); break;
            case "no-model": json.Remove("model"); break;
        }
        string path = WriteBeside(json, withConfig: false);
        if (kind == "not-json") File.WriteAllText(path, "{ \"model\": { \"vocab\": ");
        var ex = Assert.Throws<InvalidDataException>(() => TokenizerJson.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void Bad_config_names_the_config_file()
    {
        string path = WriteBeside(FixtureJson(), withConfig: true);
        string config = Path.Combine(Path.GetDirectoryName(path)!, TokenizerJson.ConfigFileName);
        File.WriteAllText(config, """{"bos_token": "<|no_such_token|>"}""");
        var ex = Assert.Throws<InvalidDataException>(() => TokenizerJson.Load(path));
        Assert.Contains(config, ex.Message);
        Assert.Contains("<|no_such_token|>", ex.Message);
    }

    [Fact]
    public void Missing_file_is_file_not_found() =>
        Assert.Throws<FileNotFoundException>(() => TokenizerJson.Load(Path.Combine(TestPaths.NewTempDir("tokjson"), "tokenizer.json")));

    private static JsonObject FixtureJson() => JsonNode.Parse(File.ReadAllText(FixturePath))!.AsObject();

    private static string WriteBeside(JsonObject json, bool withConfig)
    {
        string dir = TestPaths.NewTempDir("tokjson");
        string path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        if (withConfig) File.Copy(TestPaths.TinyLlamaFile("tokenizer_config.json"), Path.Combine(dir, TokenizerJson.ConfigFileName));
        return path;
    }
}
