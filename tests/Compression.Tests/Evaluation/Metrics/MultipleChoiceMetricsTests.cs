// MultipleChoiceMetricsTests: acc and acc_norm picks, where length normalisation flips the answer.
using Compression.Evaluation.Metrics;

namespace Compression.Tests.Evaluation.Metrics;

public class MultipleChoiceMetricsTests
{
    [Fact]
    public void NormalisationCanFlipThePick()
    {
        // −4 over 2 bytes (−2/byte) beats −5 raw, but −5 over 5 bytes (−1/byte) wins normalised.
        double[] lls = [-4, -5];
        int[] bytes = [2, 5];
        Assert.Equal(0, MultipleChoiceMetrics.Pick(lls));
        Assert.Equal(1, MultipleChoiceMetrics.PickNormalised(lls, bytes));
    }

    [Fact]
    public void TiesGoToTheFirstChoice() => Assert.Equal(1, MultipleChoiceMetrics.Pick([-3, -1, -1]));
}
