// TextWindows: a text cut into the model calls that score it — one stream, or document by document.
namespace Compression.Evaluation.Tasks;

/// <summary>One model call: its input tokens, the first position scored, and the window it came from (offsets within its document).</summary>
public sealed record ScoringWindow(int[] Input, int FirstScored, TokenWindow Window);

/// <summary>The windows of a text and the UTF-8 bytes of the tokens they score.</summary>
public sealed record WindowPlan(IReadOnlyList<ScoringWindow> Windows, long ScoredTokens, long ScoredBytes);

public static class TextWindows
{
    /// <summary>
    /// Plans the calls that score <paramref name="text"/> with <paramref name="model"/>'s tokenizer: the whole text as
    /// one stream, or each document on its own when <see cref="WindowOptions.DocumentSeparator"/> is set.
    /// <see cref="WindowOptions.MaxTokens"/> caps the text tokens taken, across documents.
    /// </summary>
    public static WindowPlan Plan(ILanguageModel model, string text, WindowOptions options, int? bos)
    {
        string[] documents = options.DocumentSeparator is { Length: > 0 } separator
            ? text.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [text];
        long budget = options.MaxTokens ?? long.MaxValue, scoredTokens = 0, scoredBytes = 0;
        var windows = new List<ScoringWindow>();
        foreach (string document in documents)
        {
            if (budget <= 0) break;
            int[] tokens = model.Encode(document, addBos: false);
            if (tokens.Length > budget) tokens = tokens[..(int)budget];
            budget -= tokens.Length;
            var planned = TokenWindows.Plan(tokens.Length, options.WindowTokens, options.EffectiveStride, options.MinContext);
            if (planned.Count == 0) continue;
            foreach (var window in planned)
            {
                var (input, firstScored) = TokenWindows.Input(tokens, window, bos);
                windows.Add(new ScoringWindow(input, firstScored, window));
                scoredTokens += window.Scored;
            }
            // Scored tokens of a document are contiguous: from its first window's first scored token to its end.
            scoredBytes += model.ByteLength(tokens.AsSpan(planned[0].ScoredFrom));
        }
        if (windows.Count == 0) throw new ArgumentException("The text has no tokens to score with these options.");
        return new WindowPlan(windows, scoredTokens, scoredBytes);
    }
}
