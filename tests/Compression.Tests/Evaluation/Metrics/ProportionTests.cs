// ProportionTests: Wilson score intervals against published values.
using Compression.Evaluation.Metrics;

namespace Compression.Tests.Evaluation.Metrics;

public class ProportionTests
{
    [Theory]
    // Wilson 95% intervals (z = 1.959964), e.g. as given by statsmodels proportion_confint(method="wilson").
    [InlineData(50, 100, 0.40383, 0.59617)]
    [InlineData(0, 10, 0.0, 0.27753)]
    [InlineData(10, 10, 0.72247, 1.0)]
    [InlineData(8, 10, 0.49016, 0.94332)]
    public void Wilson_MatchesKnownBounds(long k, long n, double lower, double upper)
    {
        var p = Proportion.Wilson(k, n);
        Assert.Equal((double)k / n, p.Value, 12);
        Assert.Equal(lower, p.Lower, 4);
        Assert.Equal(upper, p.Upper, 4);
    }

    [Fact]
    public void Wilson_RejectsImpossibleCounts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Proportion.Wilson(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Proportion.Wilson(11, 10));
    }

    [Fact]
    public void Z_IsTheNormalQuantile() => Assert.Equal(1.959964, Confidence.Z(0.95), 6);
}
