// ReportChartsRooflineTests: throughput records that carry a measured read bandwidth (compress bench --bandwidth) get
// the roofline drawn on their throughput chart; records without one do not.
using Compression.Reporting;

namespace Compression.Tests.Reporting;

public class ReportChartsRooflineTests
{
    private static List<ResultRecord> Records(bool withBandwidth) =>
    [
        .. new[] { ("f16", 12_000_000L, 300.0), ("q4_0", 3_375_000L, 800.0) }.Select(x => SampleRecords.Make(x.Item1, "throughput",
            new Dictionary<string, MetricValue>
            {
                [MetricNames.DecodeTokensPerSecond] = new(x.Item3),
            }.Concat(withBandwidth ? [new(MetricNames.ReadBandwidth, new MetricValue(20e9))] : []).ToDictionary(), x.Item2)),
    ];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RooflineComesFromTheRecordsBandwidth(bool withBandwidth)
    {
        var set = ReportCharts.WriteAll(Records(withBandwidth), TestPaths.NewTempDir("roofline-chart"));
        var chart = Assert.Single(set.Charts, c => c.PngPath.Contains("throughput-vs-bits"));
        Assert.Equal(withBandwidth, chart.SeriesNamed("roofline") is not null);
        if (withBandwidth) Assert.Contains(chart.Series, s => s.Name == "roofline" && s.PointCount == 64);
    }
}
