// ResultJson: the JSON form of result records (camelCase, indented, named float literals for infinite perplexities).
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Compression.Reporting;

/// <summary>Serialises <see cref="ResultRecord"/>s. Reading validates required fields and nullability and names the source on failure.</summary>
public static class ResultJson
{
    /// <summary>The options every result file is written and read with.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // A 1-bit post-hoc model can have an infinite perplexity; it must survive the round trip.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>The record as indented camelCase JSON.</summary>
    public static string Serialize(ResultRecord record) => JsonSerializer.Serialize(record, Options);

    /// <summary>
    /// Parses one record. Throws <see cref="InvalidDataException"/> naming <paramref name="source"/> (a file name)
    /// when the text is not JSON, lacks a required field, or has a null where a value is required.
    /// </summary>
    public static ResultRecord Deserialize(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<ResultRecord>(json, Options)
                ?? throw new InvalidDataException($"{source}: the file holds JSON null, not a result record");
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $" (line {line + 1})" : "";
            throw new InvalidDataException($"{source}: not a valid result record{where}: {e.Message}", e);
        }
    }
}
