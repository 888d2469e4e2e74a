// ResultsCsvTests: the CSV export has the documented columns, one row per record × metric, and quotes safely.
using System.Globalization;
using System.Text;
using Compression.Reporting;

namespace Compression.Tests.Reporting;

public class ResultsCsvTests
{
    /// <summary>Minimal RFC 4180 reader, independent of the writer.</summary>
    static List<string[]> Parse(string csv)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < csv.Length; i++)
        {
            char c = csv[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\r') { }
            else if (c == '\n') { row.Add(field.ToString()); field.Clear(); rows.Add(row.ToArray()); row.Clear(); }
            else field.Append(c);
        }
        Assert.Empty(row);
        return rows;
    }

    [Fact]
    public void Csv_HasHeaderAndOneRowPerMetric_WithBounds()
    {
        var records = SampleRecords.Sweep();
        var rows = Parse(ResultsCsv.ToCsv(records));

        Assert.Equal(ResultsCsv.Columns, rows[0]);
        Assert.Equal(records.Sum(r => r.Metrics.Count), rows.Count - 1);
        Assert.All(rows, r => Assert.Equal(ResultsCsv.Columns.Count, r.Length));

        int Col(string name) => ResultsCsv.Columns.ToList().IndexOf(name);
        var acc = rows.Single(r => r[Col("format")] == "q4_0" && r[Col("metric")] == "acc");
        Assert.Equal(0.655, double.Parse(acc[Col("value")], CultureInfo.InvariantCulture));
        Assert.Equal(0.655 - 0.031, double.Parse(acc[Col("lower")], CultureInfo.InvariantCulture));
        Assert.Equal(0.655 + 0.029, double.Parse(acc[Col("upper")], CultureInfo.InvariantCulture));
        Assert.Equal("0.015", acc[Col("stderr")]);
        Assert.Equal("recall", acc[Col("task")]);
        Assert.Equal("3375000", acc[Col("size_bytes")]);
        Assert.Equal("256", acc[Col("context_length")]);
        Assert.Equal("0", acc[Col("few_shot")]);
        Assert.Equal("2026-11-25T12:00:00Z", acc[Col("time_utc")]);

        var ppl = rows.Single(r => r[Col("format")] == "q4_0" && r[Col("metric")] == "perplexity");
        Assert.Equal("", ppl[Col("lower")]);
        Assert.Equal("", ppl[Col("few_shot")]);
    }

    [Fact]
    public void Csv_QuotesCommasQuotesAndNewlines()
    {
        var model = new ModelInfo("my \"best\", model\nv2", null, 10);
        var r = SampleRecords.Make("q8_0", "t", new Dictionary<string, MetricValue> { ["perplexity"] = new(double.PositiveInfinity) }, 10, model: model);
        var rows = Parse(ResultsCsv.ToCsv([r]));
        Assert.Equal(2, rows.Count);
        Assert.Equal("my \"best\", model\nv2", rows[1][1]);
        Assert.Equal("Infinity", rows[1][ResultsCsv.Columns.ToList().IndexOf("value")]);
    }

    [Fact]
    public void ExportCsv_WritesTheStoreAtomically()
    {
        var store = new ResultsStore(TestPaths.NewTempDir("csv"));
        foreach (var r in SampleRecords.Sweep()) store.Save(r);
        string path = store.ExportCsv();
        Assert.Equal(Path.Combine(store.Root, "results.csv"), path);
        Assert.Equal(SampleRecords.Sweep().Sum(r => r.Metrics.Count) + 1, Parse(File.ReadAllText(path)).Count);
        Assert.Empty(Directory.GetFiles(store.Root, "*.tmp", SearchOption.AllDirectories));
    }
}
