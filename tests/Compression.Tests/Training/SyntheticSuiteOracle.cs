// SyntheticSuiteOracle: solves synthetic benchmark items from their context text alone, by rules independent of the generator.
using System.Text.RegularExpressions;

namespace Compression.Tests.Training;

/// <summary>
/// A rule-based reader of suite contexts: it parses the facts stated in the text (pets, cities, jobs,
/// counts, transfers, records, arithmetic) and answers the final, unfinished sentence. It shares no
/// code with the generator, so agreeing with it shows each item's answer really follows from its context.
/// </summary>
internal static partial class SyntheticSuiteOracle
{
    /// <summary>The value the context determines (a word or a number), or null if the oracle cannot parse it.</summary>
    public static string? Solve(string context)
    {
        Match m;
        // A counting run cut before its end: the stated end, which also follows the last number given.
        if ((m = Rx(@"Counting from (\d+) to (\d+):(?: \d+,)+$").Match(context)).Success) return N(m, 2).ToString();
        string last = LastSentence(context);
        var facts = new Facts(context);
        // A list, then how many it holds: count the items of the sentence before.
        if (Rx(@"^(?:There are|The flag has|So \w+ bought)$").IsMatch(last))
        {
            string list = LastSentence(context[..context.LastIndexOf(last, StringComparison.Ordinal)].TrimEnd());
            string items = list[(list.LastIndexOf(list.Contains(" are ") ? " are " : list.Contains(" holds ") ? " holds " : " bought ", StringComparison.Ordinal) + 1)..];
            return (items.Split(", ").Length - 1 + items.Split(" and ").Length).ToString();
        }
        if ((m = Rx(@"^(\d+) plus (\d+) is$").Match(last)).Success) return (N(m, 1) + N(m, 2)).ToString();
        if ((m = Rx(@"^(\d+) minus (\d+) is$").Match(last)).Success) return (N(m, 1) - N(m, 2)).ToString();
        if ((m = Rx(@"^(\d+) times (\d+) is$").Match(last)).Success) return (N(m, 1) * N(m, 2)).ToString();
        if ((m = Rx(@"^\w+ had (\d+) \w+ and gave away (\d+), so \w+ has$").Match(last)).Success) return (N(m, 1) - N(m, 2)).ToString();
        if ((m = Rx(@"^\w+ had (\d+) \w+ and found (\d+) more, so \w+ has$").Match(last)).Success) return (N(m, 1) + N(m, 2)).ToString();
        if ((m = Rx(@"^(?:Now|Right now|At this point) (\w+) has$").Match(last)).Success) return facts.Count.GetValueOrDefault(m.Groups[1].Value)?.ToString();
        if ((m = Rx(@"^The (city|job) of (\w+) is$").Match(last)).Success) return facts.Get(m.Groups[1].Value, m.Groups[2].Value);
        if ((m = Rx(@"^(\w+)'s (\w+) is$").Match(last)).Success) return facts.PetColour(m.Groups[1].Value, m.Groups[2].Value);
        if ((m = Rx(@"^The (\w+) of (\w+) is$").Match(last)).Success) return facts.PetColour(m.Groups[2].Value, m.Groups[1].Value);
        if ((m = Rx(@"^(?:The pet of (\w+) is a|(\w+)'s pet is a) (\w+)$").Match(last)).Success)
            return facts.Pet.TryGetValue(m.Groups[1].Value + m.Groups[2].Value, out var p) && p.Colour == m.Groups[3].Value ? p.Animal : null;
        if ((m = Rx(@"^The (\w+) (\w+) belongs to$").Match(last)).Success)
            return facts.Pet.Where(kv => kv.Value == (m.Groups[1].Value, m.Groups[2].Value)).Select(kv => kv.Key).SingleOrDefault();
        if ((m = Rx(@"^(?:(\w+) lives in|The home of (\w+) is in)$").Match(last)).Success) return facts.Get("city", m.Groups[1].Value + m.Groups[2].Value);
        if ((m = Rx(@"^(?:The one who lives in|The person from) (\w+) is(?: called)?$").Match(last)).Success) return facts.Who("city", m.Groups[1].Value);
        if ((m = Rx(@"^(?:(\w+) works as a|By trade, (\w+) is a)$").Match(last)).Success) return facts.Get("job", m.Groups[1].Value + m.Groups[2].Value);
        if ((m = Rx(@"^The (\w+) (?:in this story is|is called)$").Match(last)).Success) return facts.Who("job", m.Groups[1].Value);
        if ((m = Rx(@"^(\w+) is$").Match(last)).Success) return facts.Get("age", m.Groups[1].Value);
        return null;
    }

    /// <summary>The value a choice states: its first word without the final period (" 3 apples." → "3").</summary>
    public static string ChoiceValue(string choice) => choice.Trim().Split(' ')[0].TrimEnd('.');

    /// <summary>Whether an agreement context's subject (the word after the last sentence's first "The") is plural.</summary>
    public static bool SubjectIsPlural(string context) => IsPlural(LastSentence(context).Split(' ')[1]);

    /// <summary>Whether the noun nearest the gap (after the last "the ") is plural — the attractor, which the suite makes disagree.</summary>
    public static bool NearestNounIsPlural(string context)
    {
        string last = LastSentence(context);
        return IsPlural(last[(last.LastIndexOf("the ", StringComparison.Ordinal) + 4)..].Split(' ')[0]);
    }

    /// <summary>Singular present/past forms used here all end in "s" (is, was, seems, runs); plural ones do not.</summary>
    public static bool VerbIsSingular(string choice) => choice.EndsWith('s');

    private static bool IsPlural(string noun) => noun.EndsWith('s') || noun is "children" or "men" or "women";

    private static string LastSentence(string context)
    {
        int period = context.LastIndexOf(". ", StringComparison.Ordinal);
        int cut = Math.Max(period < 0 ? 0 : period + 2, context.LastIndexOf('\n') + 1);
        return context[cut..];
    }

    private static int N(Match m, int group) => int.Parse(m.Groups[group].Value);

    private static Regex Rx(string pattern) => new(pattern, RegexOptions.CultureInvariant);

    /// <summary>Facts stated in a context, read in text order.</summary>
    private sealed class Facts
    {
        public readonly Dictionary<string, (string Colour, string Animal)> Pet = [];
        public readonly Dictionary<string, int?> Count = [];
        private readonly Dictionary<(string Field, string Name), string> _fields = [];

        public Facts(string text)
        {
            foreach (Match m in PetRx().Matches(text)) Pet[m.Groups[1].Value + m.Groups[4].Value] = (m.Groups[2].Value + m.Groups[5].Value, m.Groups[3].Value + m.Groups[6].Value);
            foreach (Match m in CityRx().Matches(text)) _fields[("city", m.Groups[1].Value)] = m.Groups[2].Value;
            foreach (Match m in JobRx().Matches(text)) _fields[("job", m.Groups[1].Value)] = m.Groups[2].Value;
            foreach (Match m in RecordRx().Matches(text))
            {
                _fields[("age", m.Groups[1].Value)] = m.Groups[2].Value;
                _fields[("city", m.Groups[1].Value)] = m.Groups[3].Value;
                _fields[("job", m.Groups[1].Value)] = m.Groups[4].Value;
            }
            // Counts and transfers must be replayed in order.
            foreach (Match m in CountOrGiveRx().Matches(text))
            {
                if (m.Groups[1].Success) Count[m.Groups[1].Value] = int.Parse(m.Groups[2].Value);
                else
                {
                    int k = int.Parse(m.Groups[4].Value);
                    Count[m.Groups[3].Value] = Count.GetValueOrDefault(m.Groups[3].Value) - k;
                    Count[m.Groups[5].Value] = Count.GetValueOrDefault(m.Groups[5].Value) + k;
                }
            }
        }

        public string? Get(string field, string name) => _fields.GetValueOrDefault((field, name));

        public string? Who(string field, string value) =>
            _fields.Where(kv => kv.Key.Field == field && kv.Value == value).Select(kv => kv.Key.Name).SingleOrDefault();

        public string? PetColour(string name, string animal) =>
            Pet.TryGetValue(name, out var p) && p.Animal == animal ? p.Colour : null;
    }

    [GeneratedRegex(@"\b(?:([A-Z]\w+) (?:has|owns) a (\w+) (\w+)\.|There is a (?=\w+ \w+ that belongs to ([A-Z]\w+)\.)(\w+) (\w+) that)")]
    private static partial Regex PetRx();
    [GeneratedRegex(@"\b([A-Z]\w+) (?:lives in|is from) ([A-Z]\w+)\.")]
    private static partial Regex CityRx();
    [GeneratedRegex(@"\b([A-Z]\w+) (?:is a|works as a) (\w+)\.")]
    private static partial Regex JobRx();
    [GeneratedRegex(@"name: (\w+); age: (\d+); city: (\w+); job: (\w+)")]
    private static partial Regex RecordRx();
    [GeneratedRegex(@"\b(?:([A-Z]\w+) (?:has|keeps) (\d+) \w+\.|([A-Z]\w+) gives (\d+) \w+ to ([A-Z]\w+)\.)")]
    private static partial Regex CountOrGiveRx();
}
