// ReportOptions: what a report shows besides the records — title, baseline, size table, per-tensor errors, chart axes.
using Compression.Quantization;

namespace Compression.Reporting;

/// <summary>Settings for <see cref="ReportWriter"/> and <see cref="ReportCharts"/>. Every member has a usable default.</summary>
public sealed record ReportOptions
{
    /// <summary>First heading of REPORT.md.</summary>
    public string Title { get; init; } = "Compression results";

    /// <summary>Format of the baseline row; null picks the row with the most bits per weight (see <see cref="ResultTable.Build"/>).</summary>
    public string? BaselineFormat { get; init; }

    /// <summary>A (label, bytes) size table drawn as bars and listed as a table (e.g. Llama 3.1 8B per format); null for none.</summary>
    public IReadOnlyList<SizeBar>? SizeTable { get; init; }

    /// <summary>Heading and chart title of the size table.</summary>
    public string SizeTableTitle { get; init; } = "Llama 3.1 8B size per format";

    /// <summary>Reference size the size table is compared with (16.07 GB, Llama 3.1 8B in FP16); null for none.</summary>
    public double? SizeTableReferenceBytes { get; init; } = Charts.Llama31_8BFp16Bytes;

    /// <summary>Label of the reference line.</summary>
    public string SizeTableReferenceLabel { get; init; } = "FP16 16.07 GB";

    /// <summary>Per-tensor relative errors to chart (one chart per format); null for none.</summary>
    public IReadOnlyList<TensorError>? TensorErrors { get; init; }

    /// <summary>Validation curves of training runs (quantization-aware training) drawn as loss and KL vs step; null for none.</summary>
    public IReadOnlyList<TrainingCurve>? TrainingCurves { get; init; }

    /// <summary>Memory-bandwidth roofline drawn on throughput charts; null for none.</summary>
    public Roofline? Roofline { get; init; }

    /// <summary>X axis of size-vs-quality charts; null picks GB for models of 1 GB or more, else MB.</summary>
    public SizeAxis? SizeAxis { get; init; }

    /// <summary>Time printed as "generated"; null means now. Set it to make a report reproducible byte for byte.</summary>
    public DateTimeOffset? GeneratedUtc { get; init; }
}
