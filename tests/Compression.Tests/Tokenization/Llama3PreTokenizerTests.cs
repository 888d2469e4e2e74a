// Tests for Llama3PreTokenizer: agreement with the Llama 3 regex on BMP text, code-point handling beyond it.
using System.Text;
using Compression.Tokenization;

namespace Compression.Tests.Tokenization;

public class Llama3PreTokenizerTests
{
    private static List<string> Pieces(string text)
    {
        var ranges = new List<(int Offset, int Length)>();
        Llama3PreTokenizer.Split(text, ranges);
        return [.. ranges.Select(r => text.Substring(r.Offset, r.Length))];
    }

    private static readonly System.Text.RegularExpressions.Regex Reference = Llama3PreTokenizer.CreateRegex();

    private static List<string> RegexPieces(string text) => [.. Reference.Matches(text).Select(m => m.Value)];

    [Theory]
    [InlineData("It's strange, she told her apprentice: 12 gears, 144 springs.")]
    [InlineData("  two leading spaces\n\nblank line\tand a tab   ")]
    [InlineData("I'M  'll 've 're 'S 'x ''s")]
    [InlineData("a\r\n\r\n b \n\t\n c   \n   d\u00A0\u00A0e")]
    [InlineData("12345678 3.14159 ٣٤٥٦ ½¾ Ⅻ")]
    [InlineData("$$$ ... --> !!!\n\n?! ()")]
    public void Agrees_with_the_regex(string text) => Assert.Equal(RegexPieces(text), Pieces(text));

    [Fact]
    public void Agrees_with_the_regex_on_random_bmp_text()
    {
        string[] alphabet = ["a", "B", "z", "é", "Ü", "時", "1", "9", "٣", "½", " ", " ", "  ", "\t", "\n", "\r", "\r\n", "'", "s", "t", "ll", "re", "ve",
            "M", "D", ".", ",", "!", "-", "$", "\u00A0", "\u3000", "\u2028", "_", "ª", "ǅ"];
        var rng = new Random(11);
        for (int trial = 0; trial < 2000; trial++)
        {
            var sb = new StringBuilder();
            int n = rng.Next(1, 30);
            for (int i = 0; i < n; i++) sb.Append(alphabet[rng.Next(alphabet.Length)]);
            string text = sb.ToString();
            Assert.Equal(RegexPieces(text), Pieces(text));
        }
    }

    [Fact]
    public void Letters_outside_the_bmp_are_letters()
    {
        // U+1D401 (mathematical bold B) is \p{L}; .NET's regex sees two surrogates, llama.cpp and HF see a letter.
        Assert.Equal(["𝐁𝐨𝐥𝐝", " 𠀀𠀁", " ok"], Pieces("𝐁𝐨𝐥𝐝 𠀀𠀁 ok"));
        Assert.Equal([" 🙂👍", " x"], Pieces(" 🙂👍 x"));
    }

    [Fact]
    public void Pieces_cover_the_text_without_gaps()
    {
        string text = SyntheticCorpus.Make(20_000, seed: 3);
        Assert.Equal(text, string.Concat(Pieces(text)));
        Assert.Empty(Pieces(""));
    }
}
