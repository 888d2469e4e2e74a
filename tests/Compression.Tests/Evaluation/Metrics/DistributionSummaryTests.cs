// DistributionSummaryTests: the stated percentile definition (linear interpolation, R7) and extremes.
using Compression.Evaluation.Metrics;

namespace Compression.Tests.Evaluation.Metrics;

public class DistributionSummaryTests
{
    [Fact]
    public void Percentiles_InterpolateBetweenOrderStatistics()
    {
        // Sorted 1..5: rank h = 4q; q=.9 → 4.6, q=.95 → 4.8, q=.99 → 4.96, q=.999 → 4.996 (numpy.percentile values).
        var s = DistributionSummary.From([5, 3, 1, 4, 2]);
        Assert.Equal(3, s.Median, 12);
        Assert.Equal(4.6, s.P90, 12);
        Assert.Equal(4.8, s.P95, 12);
        Assert.Equal(4.96, s.P99, 12);
        Assert.Equal(4.996, s.P999, 12);
        Assert.Equal(1, s.Min);
        Assert.Equal(5, s.Max);
        Assert.Equal(3, s.Mean.Mean, 12);
    }

    [Fact]
    public void Median_OfEvenCountIsMidpoint() =>
        Assert.Equal(2.5, DistributionSummary.From([4, 1, 3, 2]).Median, 12);
}
