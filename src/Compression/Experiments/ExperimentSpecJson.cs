// ExperimentSpecJson: source-generated JSON metadata for experiment specs (works where reflection-based JSON is off).
using System.Text.Json.Serialization;

using Compression.Quantization;

namespace Compression.Experiments;

/// <summary>
/// camelCase, comments and trailing commas allowed, unknown fields rejected (a misspelt field is an error, not a
/// silently ignored setting).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ExperimentSpec))]
[JsonSerializable(typeof(ReportInputs.SizeTableFile))]
[JsonSerializable(typeof(List<Compression.Quantization.TensorError>))]
public sealed partial class ExperimentSpecJson : JsonSerializerContext;
