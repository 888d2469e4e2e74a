// StoryWriter: stories that introduce people with attributes and later refer back to them (recall, reverse recall, transfers).
using System.Text;

namespace Compression.Training.Corpus;

/// <summary>A person in a story; an attribute is null until (unless) the story states it.</summary>
internal sealed class StoryEntity(string name)
{
    public string Name { get; } = name;
    public string? Colour { get; set; }
    public string? Animal { get; set; }
    public string? City { get; set; }
    public string? Job { get; set; }
    public int? Count { get; set; }
}

/// <summary>The state of a story being written: its people and the goods they count.</summary>
internal sealed class Story
{
    public List<StoryEntity> Entities { get; } = [];
    public Noun Goods { get; set; }
}

/// <summary>
/// Writes stories: 2–4 people are introduced with 2–4 of {pet (colour + animal), city, job, count of goods},
/// values distinct within the story; then (after optional filler) events (2–5, more while the story carries under
/// <see cref="CorpusGenerator.MinDocumentBits"/>) refer back to stated facts, so
/// the referred value costs no information and a model can only predict it by recalling the introduction.
/// </summary>
internal static class StoryWriter
{
    private enum Fact { Pet, City, Job, Count }

    // Non-empty subsets of {Pet, City, Job, Count} with at least two members, as bit masks.
    private static readonly int[] FactMasks = Enumerable.Range(0, 16).Where(m => int.PopCount(m) >= 2).ToArray();

    /// <summary>Writes a whole story document; <paramref name="longRange"/> puts 6–12 unrelated sentences between introductions and references.</summary>
    public static void Write(ChoiceStream r, StringBuilder sb, bool longRange)
    {
        Story story = Introduce(r, sb, r.Range(2, 4));
        int fillers = longRange ? r.Range(6, 12) : r.Range(0, 2);
        for (int i = 0; i < fillers; i++) FillerWriter.Sentence(r, sb);
        int events = r.Range(2, 5);
        for (int i = 0; i < events || r.Bits < CorpusGenerator.MinDocumentBits; i++) Event(r, sb, story);
    }

    /// <summary>Introduces <paramref name="entityCount"/> people and writes their facts, grouped by person or interleaved.</summary>
    public static Story Introduce(ChoiceStream r, StringBuilder sb, int entityCount)
    {
        var story = new Story();
        List<int> names = [], colours = [], animals = [], cities = [], jobs = [];
        var facts = new List<(StoryEntity Entity, Fact Fact)>();
        bool anyCount = false;
        for (int e = 0; e < entityCount; e++)
        {
            var entity = new StoryEntity(Lexicon.Names[r.NextExcept(Lexicon.Names.Length, names)]);
            story.Entities.Add(entity);
            int mask = FactMasks[r.Next(FactMasks.Length)];
            int first = facts.Count;
            if ((mask & 1) != 0)
            {
                entity.Colour = Lexicon.Colours[r.NextExcept(Lexicon.Colours.Length, colours)];
                entity.Animal = Lexicon.Animals[r.NextExcept(Lexicon.Animals.Length, animals)];
                facts.Add((entity, Fact.Pet));
            }
            if ((mask & 2) != 0) { entity.City = Lexicon.Cities[r.NextExcept(Lexicon.Cities.Length, cities)]; facts.Add((entity, Fact.City)); }
            if ((mask & 4) != 0) { entity.Job = Lexicon.Jobs[r.NextExcept(Lexicon.Jobs.Length, jobs)]; facts.Add((entity, Fact.Job)); }
            if ((mask & 8) != 0) { entity.Count = r.Range(2, 9); facts.Add((entity, Fact.Count)); anyCount = true; }
            // Grouped-by-person stories still vary the order of each person's facts.
            ShuffleRange(r, facts, first);
        }
        if (anyCount) story.Goods = r.Pick(Lexicon.Goods);
        if (r.Flip()) r.Shuffle(facts);
        foreach (var (entity, fact) in facts) Text.Sentence(sb, Introduction(r, story, entity, fact));
        return story;
    }

    /// <summary>One event after the introductions: usually a reference back to a stated fact, sometimes a transfer of goods.</summary>
    public static void Event(ChoiceStream r, StringBuilder sb, Story story)
    {
        if (CanTransfer(story) && r.Weighted([1, 3]) == 0)
        {
            foreach (Cloze c in Transfer(r, sb, story)) c.WriteTo(sb);
            return;
        }
        BackReference(r, story).WriteTo(sb);
    }

    /// <summary>A reference back to a fact the story stated, chosen uniformly over stated facts and then over templates.</summary>
    public static Cloze BackReference(ChoiceStream r, Story story)
    {
        var stated = new List<(StoryEntity, Fact)>();
        foreach (StoryEntity e in story.Entities)
        {
            if (e.Colour is not null) stated.Add((e, Fact.Pet));
            if (e.City is not null) stated.Add((e, Fact.City));
            if (e.Job is not null) stated.Add((e, Fact.Job));
            if (e.Count is not null) stated.Add((e, Fact.Count));
        }
        var (entity, fact) = r.Pick(stated);
        string n = entity.Name;
        return fact switch
        {
            Fact.Pet => r.Next(5) switch
            {
                0 => new Cloze($"{n}'s {entity.Animal} is", SlotKind.Colour, entity.Colour!, "."),
                1 => new Cloze($"The {entity.Animal} of {n} is", SlotKind.Colour, entity.Colour!, "."),
                2 => new Cloze($"The pet of {n} is a {entity.Colour}", SlotKind.Animal, entity.Animal!, "."),
                3 => new Cloze($"{n}'s pet is a {entity.Colour}", SlotKind.Animal, entity.Animal!, "."),
                _ => new Cloze($"The {entity.Colour} {entity.Animal} belongs to", SlotKind.Name, n, "."),
            },
            Fact.City => r.Next(3) switch
            {
                0 => new Cloze($"{n} lives in", SlotKind.City, entity.City!, "."),
                1 => new Cloze($"The home of {n} is in", SlotKind.City, entity.City!, "."),
                _ => new Cloze($"The one who lives in {entity.City} is", SlotKind.Name, n, "."),
            },
            Fact.Job => r.Next(3) switch
            {
                0 => new Cloze($"{n} works as a", SlotKind.Job, entity.Job!, "."),
                1 => new Cloze($"By trade, {n} is a", SlotKind.Job, entity.Job!, "."),
                _ => new Cloze($"The {entity.Job} in this story is", SlotKind.Name, n, "."),
            },
            _ => r.Next(2) switch
            {
                0 => new Cloze($"Right now {n} has", SlotKind.Count, entity.Count!.Value.ToString(), ".", story.Goods),
                _ => new Cloze($"At this point {n} has", SlotKind.Count, entity.Count!.Value.ToString(), ".", story.Goods),
            },
        };
    }

    /// <summary>Whether some person with at least two goods can give to another person who counts goods.</summary>
    public static bool CanTransfer(Story story) =>
        story.Entities.Count(e => e.Count is not null) >= 2 && story.Entities.Any(e => e.Count >= 2);

    /// <summary>
    /// Writes "A gives m goods to B." and returns the two determined follow-ups ("Now A has" and "And B has");
    /// the counts are updated in <paramref name="story"/>.
    /// </summary>
    public static Cloze[] Transfer(ChoiceStream r, StringBuilder sb, Story story)
    {
        var givers = story.Entities.Where(e => e.Count >= 2).ToList();
        StoryEntity giver = r.Pick(givers);
        var takers = story.Entities.Where(e => e.Count is not null && e != giver).ToList();
        StoryEntity taker = r.Pick(takers);
        int m = r.Range(1, giver.Count!.Value - 1);
        Text.Sentence(sb, $"{giver.Name} gives {m} {story.Goods.Form(m != 1)} to {taker.Name}.");
        giver.Count -= m;
        taker.Count += m;
        return
        [
            new Cloze($"Now {giver.Name} has", SlotKind.Count, giver.Count!.Value.ToString(), ".", story.Goods),
            new Cloze($"And {taker.Name} has", SlotKind.Count, taker.Count!.Value.ToString(), ".", story.Goods),
        ];
    }

    private static string Introduction(ChoiceStream r, Story story, StoryEntity e, Fact fact) => fact switch
    {
        Fact.Pet => r.Next(3) switch
        {
            0 => $"{e.Name} has a {e.Colour} {e.Animal}.",
            1 => $"{e.Name} owns a {e.Colour} {e.Animal}.",
            _ => $"There is a {e.Colour} {e.Animal} that belongs to {e.Name}.",
        },
        Fact.City => r.Flip() ? $"{e.Name} lives in {e.City}." : $"{e.Name} is from {e.City}.",
        Fact.Job => r.Flip() ? $"{e.Name} is a {e.Job}." : $"{e.Name} works as a {e.Job}.",
        _ => r.Flip() ? $"{e.Name} has {e.Count} {story.Goods.Plural}." : $"{e.Name} keeps {e.Count} {story.Goods.Plural}.",
    };

    private static void ShuffleRange<T>(ChoiceStream r, List<T> items, int start)
    {
        for (int i = items.Count - 1; i > start; i--)
        {
            int j = start + r.Next(i - start + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
