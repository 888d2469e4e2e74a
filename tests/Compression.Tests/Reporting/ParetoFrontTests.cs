// ParetoFrontTests: the front on crafted sets and against the brute-force definition on random ones.
using Compression.Reporting;

namespace Compression.Tests.Reporting;

public class ParetoFrontTests
{
    [Fact]
    public void LossMetric_CraftedSet()
    {
        //                 0    1    2    3    4    5
        double[] size =  [16,  8.5, 8.5, 4.5, 4.6, 1.1];
        double[] ppl =   [6.2, 6.3, 6.4, 6.7, 6.9, 58];
        // 2 loses to 1 (same size, worse); 4 loses to 3 (bigger, worse); the rest trade size for quality.
        Assert.Equal([5, 3, 1, 0], ParetoFront.Indices(size, ppl, higherIsBetter: false));
    }

    [Fact]
    public void AccuracyMetric_CraftedSet()
    {
        double[] size = [16, 8.5, 4.5, 4.6, 1.1, 2.0];
        double[] acc =  [0.80, 0.80, 0.70, 0.72, 0.25, 0.24];
        // 0 ties 1 on accuracy at a larger size; 5 is bigger and worse than 4.
        Assert.Equal([4, 2, 3, 1], ParetoFront.Indices(size, acc, higherIsBetter: true));
        // Treated as a loss instead, preference flips: 4 (smallest, lowest) and 5 (lower still, a bit bigger).
        Assert.Equal([4, 5], ParetoFront.Indices(size, acc, higherIsBetter: false));
    }

    [Fact]
    public void DuplicatesOnce_NonFiniteNever_EmptyOk()
    {
        Assert.Equal([1], ParetoFront.Indices([2.0, 1.0, 1.0], [5.0, 3.0, 3.0], false));
        Assert.Equal([2], ParetoFront.Indices([1.0, double.NaN, 3.0], [double.PositiveInfinity, 1.0, 2.0], false));
        Assert.Empty(ParetoFront.Indices([], [], false));
        Assert.Throws<ArgumentException>(() => ParetoFront.Indices([1.0], [], false));
    }

    [Fact]
    public void Select_ReturnsItemsBySizeAscending()
    {
        var items = new[] { ("big", 10.0, 1.0), ("small", 1.0, 9.0), ("mid", 5.0, 4.0), ("bad", 6.0, 5.0) };
        var front = ParetoFront.Select(items, x => x.Item2, x => x.Item3, higherIsBetter: false);
        Assert.Equal(["small", "mid", "big"], front.Select(x => x.Item1));
    }

    [Fact]
    public void MatchesBruteForceDefinition_OnRandomSets()
    {
        var rng = new Random(42);
        for (int trial = 0; trial < 300; trial++)
        {
            int n = rng.Next(0, 12);
            // Few distinct values so ties in size and quality are common.
            double[] size = Enumerable.Range(0, n).Select(_ => (double)rng.Next(0, 5)).ToArray();
            double[] q = Enumerable.Range(0, n).Select(_ => (double)rng.Next(0, 5)).ToArray();
            bool higher = rng.Next(2) == 0;
            var got = ParetoFront.Indices(size, q, higher);

            double Loss(int i) => higher ? -q[i] : q[i];
            bool Dominated(int i) => Enumerable.Range(0, n).Any(j =>
                size[j] <= size[i] && Loss(j) <= Loss(i) && (size[j] < size[i] || Loss(j) < Loss(i)));
            // Exact duplicates appear once, as the lowest index.
            bool DuplicateOfEarlier(int i) => Enumerable.Range(0, i).Any(j => size[j] == size[i] && q[j] == q[i]);
            var expected = Enumerable.Range(0, n).Where(i => !Dominated(i) && !DuplicateOfEarlier(i)).OrderBy(i => size[i]).ToArray();

            Assert.Equal(expected, got);
            for (int k = 1; k < got.Length; k++)
            {
                Assert.True(size[got[k]] > size[got[k - 1]]);
                Assert.True(Loss(got[k]) < Loss(got[k - 1]));
            }
        }
    }
}
