// JsonMutator: seeded structural mutations of JSON text — missing and duplicated keys, type swaps, extreme numbers,
// truncation at structural characters, invalid UTF-8.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Compression.Tests.Robustness.Fuzz;

/// <summary>Mutations of a JSON document (or of each line of a JSONL file).</summary>
internal sealed class JsonMutator(Random random)
{
    /// <summary>Replacement values: wrong types, extreme and non-integral numbers, deep nesting.</summary>
    private static readonly string[] Replacements =
    [
        "null", "true", "\"\"", "\"x\"", "\"NaN\"", "\"1e400\"", "0", "-1", "1", "2147483647", "2147483648", "-2147483649",
        "4294967296", "9223372036854775807", "18446744073709551616", "1e30", "1e308", "-1e308", "0.5", "1e-320", "[]", "{}",
        "[1,2,3]", "[\"a\"]", "{\"a\":1}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "\"" + new string('x', 5000) + "\"",
    ];

    /// <summary>One random mutation of <paramref name="json"/>, returning UTF-8 bytes and a label.</summary>
    public (byte[] Bytes, string Label) Mutate(string json)
    {
        switch (random.Next(6))
        {
            case 0: return Structured(json, "removed", (parent, key) => parent.Remove(key));
            case 1: return Duplicate(json);
            case 2:
            {
                string value = Replacements[random.Next(Replacements.Length)];
                return Structured(json, $"replaced by {Short(value)}", (parent, key) => parent[key] = JsonNode.Parse(value));
            }
            case 3:
            {
                // Truncate just before or after a structural character.
                var marks = Enumerable.Range(0, json.Length).Where(i => json[i] is '{' or '}' or '[' or ']' or ',' or ':' or '"').ToList();
                int at = marks.Count == 0 ? json.Length / 2 : marks[random.Next(marks.Count)] + random.Next(2);
                return (Encoding.UTF8.GetBytes(json[..Math.Min(at, json.Length)]), $"truncated at char {at}");
            }
            case 4:
            {
                var b = Encoding.UTF8.GetBytes(json).ToList();
                int at = random.Next(b.Count + 1);
                byte[] bad = random.Next(3) switch { 0 => [0xFF], 1 => [0xC3], _ => [0xED, 0xA0, 0x80] }; // invalid, cut, surrogate
                b.InsertRange(at, bad);
                return (b.ToArray(), $"invalid UTF-8 at byte {at}");
            }
            default:
            {
                // Numbers anywhere set to extremes (e.g. num_hidden_layers: 1e8).
                string extreme = random.Next(4) switch { 0 => "100000000", 1 => "-5", 2 => "4194305", _ => "1025" };
                return Structured(json, $"set to {extreme}", (parent, key) => parent[key] = JsonNode.Parse(extreme), numbersOnly: true);
            }
        }
    }

    private (byte[], string) Structured(string json, string what, Action<JsonObject, string> change, bool numbersOnly = false)
    {
        var root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
        var slots = new List<(JsonObject Parent, string Key, string Path)>();
        Collect(root, "$", slots, numbersOnly);
        if (slots.Count == 0) return (Encoding.UTF8.GetBytes(json), "unchanged (no slot)");
        var (parent, key, path) = slots[random.Next(slots.Count)];
        change(parent, key);
        return (Encoding.UTF8.GetBytes(root.ToJsonString()), $"{path} {what}");
    }

    private (byte[], string) Duplicate(string json)
    {
        var root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
        var slots = new List<(JsonObject Parent, string Key, string Path)>();
        Collect(root, "$", slots, false);
        if (slots.Count == 0) return (Encoding.UTF8.GetBytes(json), "unchanged (no slot)");
        var (parent, key, path) = slots[random.Next(slots.Count)];
        // JsonNode cannot hold a duplicate key: write the object's text with the property twice, via a marker.
        const string marker = "\u0001dup\u0001";
        var value = parent[key]?.DeepClone();
        parent[marker] = JsonValue.Create("placeholder");
        string text = root.ToJsonString();
        string duplicate = $"{JsonSerializer.Serialize(key)}:{(value is null ? "null" : value.ToJsonString())}";
        text = text.Replace($"{JsonSerializer.Serialize(marker)}:\"placeholder\"", duplicate);
        return (Encoding.UTF8.GetBytes(text), $"{path} duplicated");
    }

    private static void Collect(JsonNode? node, string path, List<(JsonObject, string, string)> slots, bool numbersOnly)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                {
                    if (!numbersOnly || v is JsonValue jv && jv.GetValueKind() == JsonValueKind.Number) slots.Add((o, k, $"{path}.{k}"));
                    Collect(v, $"{path}.{k}", slots, numbersOnly);
                }
                break;
            case JsonArray a:
                // Arrays are reached through their elements' objects; large arrays (vocabularies) are sampled, not walked whole.
                for (int i = 0; i < a.Count; i += Math.Max(1, a.Count / 16)) Collect(a[i], $"{path}[{i}]", slots, numbersOnly);
                break;
        }
    }

    private static string Short(string s) => s.Length > 24 ? s[..21] + "..." : s;
}
