// MeanEstimateTests: mean, standard error and paired differences on hand-computed samples.
using Compression.Evaluation.Metrics;

namespace Compression.Tests.Evaluation.Metrics;

public class MeanEstimateTests
{
    [Fact]
    public void From_GivesMeanAndStdErr()
    {
        // 1..4: mean 2.5, sample sd √(5/3) = 1.290994, se = sd/2 = 0.645497.
        var m = MeanEstimate.From([1, 2, 3, 4]);
        Assert.Equal(2.5, m.Mean, 12);
        Assert.Equal(0.645497, m.StdErr, 6);
        Assert.Equal(2.5 - 1.959964 * 0.645497, m.Lower, 5);
        Assert.Equal(2.5 + 1.959964 * 0.645497, m.Upper, 5);
    }

    [Fact]
    public void PairedDifference_UsesPerItemDifferences()
    {
        // Differences 1, 0, 1, 0 → mean 0.5, sd √(1/3), se = 0.288675.
        var d = MeanEstimate.PairedDifference([1, 1, 1, 0], [0, 1, 0, 0]);
        Assert.Equal(0.5, d.Mean, 12);
        Assert.Equal(0.288675, d.StdErr, 6);
        Assert.Throws<ArgumentException>(() => MeanEstimate.PairedDifference([1], [1, 2]));
    }
}
