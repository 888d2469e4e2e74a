// RecordWriter: small tables of people ("name: Ola; age: 31; city: Varno; job: baker") and sentences that read them back.
using System.Text;

namespace Compression.Training.Corpus;

/// <summary>One table row.</summary>
internal sealed record PersonRecord(string Name, int Age, string City, string Job);

/// <summary>
/// Writes 3–5 records, one per line (names, ages, cities and jobs distinct within the table), then a
/// line of 2–4 sentences that read fields back, forwards (name → age/city/job) or in reverse (job/city → name).
/// </summary>
internal static class RecordWriter
{
    /// <summary>A whole record document.</summary>
    public static void Write(ChoiceStream r, StringBuilder sb)
    {
        IReadOnlyList<PersonRecord> table = Table(r, sb);
        sb.Append('\n');
        int n = r.Range(2, 4);
        for (int i = 0; i < n || r.Bits < CorpusGenerator.MinDocumentBits; i++) Query(r, table).WriteTo(sb);
    }

    /// <summary>Writes the table (each row ending with a newline except the last) and returns its rows.</summary>
    public static IReadOnlyList<PersonRecord> Table(ChoiceStream r, StringBuilder sb)
    {
        int rows = r.Range(3, 5);
        List<int> names = [], ages = [], cities = [], jobs = [];
        var table = new List<PersonRecord>(rows);
        for (int i = 0; i < rows; i++)
        {
            var p = new PersonRecord(
                Lexicon.Names[r.NextExcept(Lexicon.Names.Length, names)],
                18 + r.NextExcept(62, ages),
                Lexicon.Cities[r.NextExcept(Lexicon.Cities.Length, cities)],
                Lexicon.Jobs[r.NextExcept(Lexicon.Jobs.Length, jobs)]);
            table.Add(p);
            if (i > 0) sb.Append('\n');
            sb.Append($"name: {p.Name}; age: {p.Age}; city: {p.City}; job: {p.Job}");
        }
        return table;
    }

    /// <summary>A sentence reading one field of one row back.</summary>
    public static Cloze Query(ChoiceStream r, IReadOnlyList<PersonRecord> table)
    {
        PersonRecord p = r.Pick(table);
        return r.Next(5) switch
        {
            0 => new Cloze($"{p.Name} is", SlotKind.Age, p.Age.ToString(), " years old."),
            1 => new Cloze($"The city of {p.Name} is", SlotKind.City, p.City, "."),
            2 => new Cloze($"The job of {p.Name} is", SlotKind.Job, p.Job, "."),
            3 => new Cloze($"The {p.Job} is called", SlotKind.Name, p.Name, "."),
            _ => new Cloze($"The person from {p.City} is called", SlotKind.Name, p.Name, "."),
        };
    }
}
