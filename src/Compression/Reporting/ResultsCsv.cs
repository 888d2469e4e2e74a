// ResultsCsv: the flat CSV export of result records — one row per record × metric, with the interval.
using System.Globalization;
using System.Text;

namespace Compression.Reporting;

/// <summary>CSV export (RFC 4180 quoting, invariant culture, round-trip doubles) for spreadsheets and pandas.</summary>
public static class ResultsCsv
{
    /// <summary>The header row's columns, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "id", "model", "parameters", "format", "policy", "task", "task_version", "seed", "context_length", "few_shot",
        "metric", "value", "lower", "upper", "stderr", "size_bytes", "bits_per_weight", "tool_version", "git_commit",
        "cpu", "time_utc", "method", "calibration", "engine",
    ];

    /// <summary>The CSV text: a header row, then one row per metric of each record (metrics sorted by name).</summary>
    public static string ToCsv(IEnumerable<ResultRecord> records)
    {
        var sb = new StringBuilder();
        AppendRow(sb, Columns);
        foreach (var r in records)
        {
            foreach (var (name, m) in r.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                AppendRow(sb,
                [
                    r.Id, r.Model.Name, Num(r.Model.ParameterCount), r.Format, r.Policy, r.Task.Name, r.Task.Version,
                    Num(r.Settings.Seed), Num(r.Settings.ContextLength), Num(r.Settings.FewShot),
                    name, Num(m.Value), Num(m.Lower), Num(m.Upper), Num(m.StdErr),
                    Num(r.Size?.Bytes), Num(r.Size?.BitsPerWeight), r.ToolVersion, r.GitCommit ?? "",
                    r.Machine.CpuModel, r.TimeUtc.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                    r.Method ?? ResultKey.Rtn, r.Calibration ?? "", r.Engine,
                ]);
            }
        }
        return sb.ToString();
    }

    static string Num(long? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "";

    static string Num(double? v) => v?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    static void AppendRow(StringBuilder sb, IReadOnlyList<string> fields)
    {
        for (int i = 0; i < fields.Count; i++)
        {
            if (i > 0) sb.Append(',');
            string f = fields[i];
            if (f.AsSpan().IndexOfAny(",\"\r\n") >= 0) sb.Append('"').Append(f.Replace("\"", "\"\"")).Append('"');
            else sb.Append(f);
        }
        sb.Append("\r\n");
    }
}
