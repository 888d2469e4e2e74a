// Tests for LlamaTokenizer: llama.cpp's ids on the fixture, special tokens, ignore_merges, decode round trips.
using System.Text;
using Compression.Tokenization;

namespace Compression.Tests.Tokenization;

public class LlamaTokenizerTests
{
    private static LlamaTokenizer Tok => TokenizerFixture.Tokenizer;

    [Theory]
    [MemberData(nameof(TokenizerFixture.CaseIndices), MemberType = typeof(TokenizerFixture))]
    public void Encode_matches_llama_cpp_ids(int index)
    {
        (string text, int[] expected) = TokenizerFixture.Cases[index];
        Assert.Equal(expected, Tok.Encode(text));
    }

    /// <summary>The same vocabulary read from GGUF metadata (tokenizer.ggml.*) tokenizes identically.</summary>
    [Theory]
    [MemberData(nameof(TokenizerFixture.CaseIndices), MemberType = typeof(TokenizerFixture))]
    public void Gguf_tokenizer_matches_llama_cpp_ids(int index)
    {
        (string text, int[] expected) = TokenizerFixture.Cases[index];
        using var gguf = Compression.Checkpoints.Gguf.GgufCheckpoint.Open(TestPaths.TinyLlamaFile("model-f32.gguf"));
        Assert.Equal(expected, new LlamaTokenizer(gguf.LoadTokenizerData()!).Encode(text));
    }

    [Theory]
    [MemberData(nameof(TokenizerFixture.CaseIndices), MemberType = typeof(TokenizerFixture))]
    public void Decode_inverts_encode_on_the_reference_texts(int index)
    {
        string text = TokenizerFixture.Cases[index].Text;
        Assert.Equal(text, Tok.Decode(Tok.Encode(text, addBos: false)));
        Assert.Equal(text, Tok.Decode(Tok.Encode(text), skipSpecial: true));
    }

    [Fact]
    public void Fixture_metadata_is_read()
    {
        Assert.Equal(512, Tok.VocabSize);
        Assert.Equal(510, Tok.BosId);
        Assert.Equal(511, Tok.EosId);
        Assert.True(Tok.IsEndOfGeneration(511));
        Assert.False(Tok.IsEndOfGeneration(510));
        Assert.False(Tok.IsEndOfGeneration(32));
        Assert.Equal("<|begin_of_text|>", Tok.TokenText(510));
        Assert.Equal("Ġ", Tok.TokenText(32));  // the fixture gives byte b id b; GPT-2 spells the space byte Ġ
        Assert.True(Tok.Data.IgnoreMerges);
    }

    [Fact]
    public void Special_token_text_is_plain_unless_parse_special()
    {
        const string text = "<|begin_of_text|> is plain text here";
        int[] plain = Tok.Encode(text);
        Assert.Equal(1, plain.Count(id => id == 510));                  // only the added BOS
        Assert.Equal(text, Tok.Decode(plain.AsSpan(1)));

        int[] parsed = Tok.Encode(text, addBos: false, parseSpecial: true);
        Assert.Equal(510, parsed[0]);
        Assert.Equal(Tok.Encode(" is plain text here", addBos: false), parsed[1..]);

        int[] both = Tok.Encode("a<|end_of_text|><|begin_of_text|>", addBos: false, parseSpecial: true);
        Assert.Equal([.. Tok.Encode("a", addBos: false), 511, 510], both);
        Assert.Equal("a", Tok.Decode(both, skipSpecial: true));
        Assert.Equal("a<|end_of_text|><|begin_of_text|>", Tok.Decode(both));
    }

    [Fact]
    public void AddBos_flag_overrides_the_default()
    {
        Assert.Equal(510, Tok.Encode("x")[0]);
        Assert.DoesNotContain(510, Tok.Encode("x", addBos: false));
        Assert.Equal([510], Tok.Encode("", addBos: true));
        Assert.Empty(Tok.Encode("", addBos: false));
    }

    [Theory]
    [InlineData("Ünder naïve café, Ångström, résumé, Zürich")]
    [InlineData("時計の針は 東京 北京 서울 ไทย")]
    [InlineData("emoji 🙂👍🏽🇫🇷 👨‍👩‍👧 and 𝐁𝐨𝐥𝐝 𠀀𠀁")]
    [InlineData("lines\r\n\r\n  indented\n\ttabs\t\t\n\n\n end   ")]
    [InlineData("digits 1 12 123 1234 12345678901234567890 ٣٤٥ ½")]
    [InlineData("I'M SURE you'LL say it's 'quoted' 'sTuff ain't")]
    [InlineData("\u00A0nbsp\u2003em\u3000ideographic\u2028sep")]
    public void Decode_inverts_encode_on_unicode(string text)
    {
        int[] ids = Tok.Encode(text, addBos: false);
        Assert.Equal(text, Tok.Decode(ids));
        Assert.All(ids, id => Assert.InRange(id, 0, 509));
    }

    [Fact]
    public void Streaming_decoder_holds_back_a_split_character()
    {
        int[] ids = Tok.Encode("a 🙂", addBos: false);
        // The emoji's four bytes F0 9F 99 82 are more than one token here (the fixture's vocabulary is tiny).
        Assert.True(ids.Length >= 3);
        var stream = Tok.CreateStreamingDecoder();
        var pieces = ids.Select(stream.Append).ToList();
        Assert.Equal("a 🙂", string.Concat(pieces));
        Assert.Equal("a 🙂", stream.Text);
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.Equal("🙂", pieces[^1]);   // nothing of the emoji came out before its last byte
        Assert.Equal("", pieces[^2]);
        Assert.Equal("", stream.Flush());
    }

    [Fact]
    public void Streaming_decoder_flushes_an_incomplete_character_as_replacement()
    {
        int f0 = Array.IndexOf(Tok.Data.Tokens.ToArray(), ByteLevel.Char(0xF0).ToString());
        var stream = Tok.CreateStreamingDecoder();
        Assert.Equal("", stream.Append(f0));
        Assert.Equal("\uFFFD", stream.Flush());
        Assert.Equal("\uFFFD", Tok.Decode([f0]));
    }

    [Fact]
    public void Streaming_decoder_skips_specials_when_asked()
    {
        var stream = Tok.CreateStreamingDecoder(skipSpecial: true);
        foreach (int id in Tok.Encode("hi", addBos: true)) stream.Append(id);
        Assert.Equal("hi", stream.Text);
    }

    [Fact]
    public void Ignore_merges_emits_a_whole_vocabulary_word_the_merges_would_split()
    {
        // Merges "a b" (rank 0) then "b c": BPE on "abc" gives [ab, c]; "abc" is in the vocabulary, so
        // with ignore_merges (Llama 3) the pre-token comes out whole, as HF and llama.cpp do.
        TokenizerData data = SyntheticVocab(["ab", "bc", "abc"], ["a b", "b c"], ignoreMerges: true);
        Assert.Equal([258], new LlamaTokenizer(data).Encode("abc", addBos: false));
        Assert.Equal([256, 'c'], new LlamaTokenizer(data with { IgnoreMerges = false }).Encode("abc", addBos: false));
    }

    [Fact]
    public void Merges_apply_by_rank_not_by_token_id()
    {
        // "ab" has the lower id but "b c" is ranked first.
        TokenizerData data = SyntheticVocab(["ab", "bc"], ["b c", "a b"], ignoreMerges: true);
        Assert.Equal(['a', 257], new LlamaTokenizer(data).Encode("abc", addBos: false));
    }

    [Fact]
    public void Encodes_a_megabyte_and_round_trips_it()
    {
        var sb = new StringBuilder();
        var rng = new Random(7);
        string[] words = ["the", " clock", " stubborn", " 12345", ",", " naïve", " 時計", " 🙂", "\n\n", "  ", " HURRY", "'s", " way"];
        while (sb.Length < 1_000_000) sb.Append(words[rng.Next(words.Length)]).Append(rng.Next(1000));
        string text = sb.ToString();
        int[] ids = Tok.Encode(text, addBos: false);
        Assert.Equal(text, Tok.Decode(ids));
    }

    internal static TokenizerData SyntheticVocab(string[] extraTokens, string[] merges, bool ignoreMerges)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevel.Char((byte)b).ToString()).Concat(extraTokens).ToList();
        return new TokenizerData
        {
            Tokens = tokens,
            TokenTypes = [.. tokens.Select(_ => TokenType.Normal)],
            Merges = merges,
            IgnoreMerges = ignoreMerges,
            AddBos = false,
        };
    }
}
