// Lexicon: the fixed word lists every generated document draws from (a few hundred words, all invented or basic English).
namespace Compression.Training.Corpus;

/// <summary>A noun with its singular and plural spelling.</summary>
internal readonly record struct Noun(string Singular, string Plural)
{
    public string Form(bool plural) => plural ? Plural : Singular;
}

/// <summary>A verb or predicate head with its third-person singular and plural present forms.</summary>
internal readonly record struct Verb(string Singular, string Plural)
{
    public string Form(bool plural) => plural ? Plural : Singular;
}

/// <summary>
/// The vocabulary. Colours, animals, jobs and list objects all start with a consonant so "a" never has to
/// become "an" (an article that depends on the next word would leak a recalled answer).
/// </summary>
internal static class Lexicon
{
    /// <summary>Invented given names.</summary>
    public static readonly string[] Names =
    [
        "Mira", "Tomas", "Ola", "Kesi", "Bram", "Lio", "Nela", "Oren", "Pim", "Rua", "Sela", "Tavi",
        "Una", "Vero", "Wim", "Yara", "Zeno", "Ilo", "Dara", "Fenn", "Gila", "Hako", "Jory", "Kalo",
        "Lumi", "Mato", "Nuri", "Pela", "Riko", "Sava", "Teo", "Vala",
    ];

    /// <summary>Invented city names.</summary>
    public static readonly string[] Cities =
    [
        "Varno", "Kelmar", "Ostrid", "Pellan", "Dunvik", "Saro", "Tirel", "Brenna", "Calvo", "Emmet",
        "Frosk", "Galdo", "Halvi", "Junta", "Lorsk", "Merrow",
    ];

    public static readonly string[] Colours =
        ["red", "blue", "green", "black", "white", "yellow", "brown", "grey", "pink", "purple"];

    public static readonly string[] Animals =
        ["fox", "cat", "dog", "horse", "goat", "frog", "bird", "fish", "mouse", "rabbit", "bear", "wolf", "duck", "pig", "hen", "crow"];

    public static readonly string[] Jobs =
        ["baker", "farmer", "teacher", "painter", "doctor", "sailor", "miner", "singer", "tailor", "potter", "weaver", "hunter", "cook", "builder", "nurse", "fisher"];

    /// <summary>Countable things people own in stories and word problems.</summary>
    public static readonly Noun[] Goods =
    [
        new("apple", "apples"), new("book", "books"), new("cup", "cups"), new("coin", "coins"), new("stone", "stones"),
        new("pen", "pens"), new("egg", "eggs"), new("shell", "shells"), new("key", "keys"), new("box", "boxes"),
    ];

    /// <summary>Things listed in containers.</summary>
    public static readonly string[] Objects =
        ["cup", "pen", "key", "lamp", "hat", "book", "ball", "bag", "coat", "rope", "bell", "drum", "comb", "ring", "sock", "spoon"];

    public static readonly string[] Containers = ["box", "bag", "basket", "drawer", "chest", "cart"];

    /// <summary>Subjects that can run, sleep and sing.</summary>
    public static readonly Noun[] Animate =
    [
        new("dog", "dogs"), new("cat", "cats"), new("bird", "birds"), new("child", "children"), new("man", "men"),
        new("woman", "women"), new("horse", "horses"), new("boy", "boys"), new("girl", "girls"), new("goat", "goats"),
    ];

    /// <summary>Subjects that can only be described.</summary>
    public static readonly Noun[] Inanimate =
    [
        new("key", "keys"), new("box", "boxes"), new("door", "doors"), new("table", "tables"), new("lamp", "lamps"),
        new("book", "books"), new("cup", "cups"), new("road", "roads"), new("house", "houses"), new("boat", "boats"),
        new("tree", "trees"), new("cabinet", "cabinets"), new("wall", "walls"), new("window", "windows"),
    ];

    public static readonly string[] Prepositions = ["to", "near", "on", "behind", "under", "by", "beside", "with", "from", "in"];

    public static readonly Verb[] Copulas = [new("is", "are"), new("was", "were"), new("seems", "seem"), new("looks", "look")];

    public static readonly string[] Adjectives = ["old", "new", "small", "big", "cold", "warm", "clean", "long", "dark", "quiet", "heavy", "bright"];

    public static readonly Verb[] Actions =
        [new("runs", "run"), new("sleeps", "sleep"), new("sings", "sing"), new("jumps", "jump"), new("eats", "eat"), new("waits", "wait"), new("plays", "play")];

    public static readonly string[] ActionTails = ["every day", "at night", "in the field", "by the river", "all morning", "in the rain", "at home"];

    /// <summary>Transitive verbs used inside relative-clause attractors ("that the boys see").</summary>
    public static readonly Verb[] Transitive = [new("sees", "see"), new("likes", "like"), new("finds", "find"), new("keeps", "keep")];

    public static readonly string[] Ordinals = ["first", "second", "third", "fourth", "fifth", "sixth"];
}
