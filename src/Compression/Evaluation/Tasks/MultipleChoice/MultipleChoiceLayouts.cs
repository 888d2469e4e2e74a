// MultipleChoiceLayouts: the registry of JSONL layouts, lookup by name and detection from a file's first line.
using System.Text.Json;
using Compression.Evaluation.Tasks.MultipleChoice.Layouts;

namespace Compression.Evaluation.Tasks.MultipleChoice;

/// <summary>Every supported layout. Adding a dataset adds a layout class and a row here.</summary>
public static class MultipleChoiceLayouts
{
    /// <summary>All layouts, in detection order (most specific fields first; the generic "mc" last).</summary>
    public static IReadOnlyList<IMultipleChoiceLayout> All { get; } =
    [
        new HellaSwagLayout(), new ArcLayout(), new PiqaLayout(), new WinoGrandeLayout(),
        new BoolQLayout(), new MmluLayout(), new GenericLayout(),
    ];

    /// <summary>The layout named <paramref name="name"/> (case-insensitive; "arc_easy"/"arc_challenge" mean "arc").</summary>
    public static IMultipleChoiceLayout Get(string name)
    {
        string key = name.Trim().ToLowerInvariant();
        if (key is "arc_easy" or "arc_challenge" or "arc-easy" or "arc-challenge") key = "arc";
        return All.FirstOrDefault(l => l.Name == key)
            ?? throw new ArgumentException($"Unknown multiple-choice layout '{name}'; known: {string.Join(", ", All.Select(l => l.Name))}.");
    }

    /// <summary>The first layout whose fields <paramref name="line"/> has, or null.</summary>
    public static IMultipleChoiceLayout? Detect(JsonElement line) => All.FirstOrDefault(l => l.Matches(line));
}
