// JsonFields: typed reads of required JSONL fields with messages that name the field.
using System.Globalization;
using System.Text.Json;

namespace Compression.Evaluation.Tasks.MultipleChoice;

/// <summary>Field accessors for layouts; every failure is an <see cref="InvalidDataException"/> naming the field.</summary>
public static class JsonFields
{
    public static bool Has(JsonElement obj, string name) => obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out _);

    public static JsonElement Require(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new InvalidDataException($"missing field '{name}'");

    public static string String(JsonElement obj, string name)
    {
        var value = Require(obj, name);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Wrong(name, "a string", value);
    }

    public static IReadOnlyList<string> Strings(JsonElement obj, string name) => StringArray(Require(obj, name), name);

    public static IReadOnlyList<string> StringArray(JsonElement value, string name)
    {
        if (value.ValueKind != JsonValueKind.Array) throw Wrong(name, "an array of strings", value);
        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Wrong($"{name}[{list.Count}]", "a string", item));
        return list;
    }

    /// <summary>An integer given as a JSON number or a numeric string ("2").</summary>
    public static int Int(JsonElement obj, string name)
    {
        var value = Require(obj, name);
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n)) return n;
        if (value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out n)) return n;
        throw Wrong(name, "an integer", value);
    }

    /// <summary>A boolean given as true/false, "true"/"false" or 0/1.</summary>
    public static bool Bool(JsonElement obj, string name)
    {
        var value = Require(obj, name);
        switch (value.ValueKind)
        {
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.String when bool.TryParse(value.GetString(), out bool b): return b;
            case JsonValueKind.Number when value.TryGetInt32(out int n) && n is 0 or 1: return n == 1;
            default: throw Wrong(name, "a boolean", value);
        }
    }

    /// <summary>The item's own id from "id", "ind", "idx" or "question_id" when present, else <paramref name="fallback"/>.</summary>
    public static string Id(JsonElement obj, string fallback)
    {
        foreach (string name in (ReadOnlySpan<string>)["id", "ind", "idx", "question_id"])
            if (obj.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.String or JsonValueKind.Number)
                return value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        return fallback;
    }

    private static InvalidDataException Wrong(string name, string expected, JsonElement value) =>
        new($"field '{name}' must be {expected}, got {value.ValueKind}: {Truncate(value.GetRawText())}");

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
