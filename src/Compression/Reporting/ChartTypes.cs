// ChartTypes: the plain inputs the charts draw and the description of what each chart file holds.
namespace Compression.Reporting;

/// <summary>One format's quality at its size, for a size-vs-quality chart. Interval bounds are optional.</summary>
public sealed record QualityPoint(string Label, double SizeBytes, double BitsPerWeight, double Value,
    double? Lower = null, double? Upper = null, bool IsBaseline = false);

/// <summary>One format's decode throughput (tokens/s) at its bits per weight; bounds show the spread when known.</summary>
public sealed record ThroughputPoint(string Label, double BitsPerWeight, double TokensPerSecond,
    double? Lower = null, double? Upper = null, bool IsBaseline = false);

/// <summary>
/// The memory-bandwidth bound on decode: each token reads every weight once, so tokens/s ≤ bandwidth ÷ weight bytes
/// (embedding lookups read one row, so <paramref name="ParameterCount"/> should count only matmul weights).
/// </summary>
public sealed record Roofline(double BandwidthBytesPerSecond, long ParameterCount);

/// <summary>One bar of a model-size chart.</summary>
/// <param name="Family">The model family (llama, qwen3, …) when a table compares several models; null for one model.</param>
public sealed record SizeBar(string Label, long Bytes, string? Family = null);


/// <summary>What the x axis of a size-vs-quality chart shows: decimal GB, decimal MB (small models) or bits per weight.</summary>
public enum SizeAxis { Gigabytes, Megabytes, BitsPerWeight }

/// <summary>A series drawn on a chart: its legend name, how many points it has and, for labelled points, their labels.</summary>
public sealed record ChartSeries(string Name, int PointCount, IReadOnlyList<string>? PointLabels = null);

/// <summary>
/// A chart written as PNG and SVG, with the series it contains. <paramref name="Omitted"/> lists labels of points
/// left out because a value was not finite (an infinite perplexity, say).
/// </summary>
public sealed record ChartFile(string Title, string PngPath, string SvgPath, IReadOnlyList<ChartSeries> Series,
    IReadOnlyList<string> Omitted)
{
    /// <summary>The series called <paramref name="name"/>, or null.</summary>
    public ChartSeries? SeriesNamed(string name) => Series.FirstOrDefault(s => s.Name == name);
}
