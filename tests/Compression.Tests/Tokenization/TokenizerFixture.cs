// TokenizerFixture: the tiny-llama3 tokenizer and llama.cpp's reference tokenizations, loaded once for the tests.
using System.Text.Json;
using Compression.Tokenization;

namespace Compression.Tests.Tokenization;

internal static class TokenizerFixture
{
    private static readonly Lazy<LlamaTokenizer> Lazy = new(() => new LlamaTokenizer(TokenizerJson.Load(TestPaths.TinyLlamaFile("tokenizer.json"))));

    public static LlamaTokenizer Tokenizer => Lazy.Value;

    /// <summary>Every "tokenization" case of reference.json plus prompt_text → prompt_tokens (llama.cpp, BOS added).</summary>
    public static IReadOnlyList<(string Text, int[] Ids)> Cases { get; } = LoadCases();

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Cases.Count; i++) data.Add(i);
        return data;
    }

    private static List<(string, int[])> LoadCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.TinyLlamaFile("reference.json")));
        var root = doc.RootElement;
        static int[] Ids(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];
        var cases = root.GetProperty("tokenization").EnumerateArray()
            .Select(c => (c.GetProperty("text").GetString()!, Ids(c.GetProperty("ids")))).ToList();
        cases.Add((root.GetProperty("prompt_text").GetString()!, Ids(root.GetProperty("prompt_tokens"))));
        return cases;
    }
}
