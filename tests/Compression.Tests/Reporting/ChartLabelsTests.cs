// ChartLabelsTests: point labels find free places even where points of two engines, or two formats, almost coincide.
using Compression.Reporting;

namespace Compression.Tests.Reporting;

public class ChartLabelsTests
{
    const double Width = ChartStyle.Width - 140, Height = ChartStyle.Height - 110;

    /// <summary>The committed 8B decode chart's points (bits per weight, tokens/s): f16, bf16 and llama.cpp's f16 within
    /// 0.3 tok/s of each other at 16 bits, q8_0 and int8 half a bit apart, q4_0 and int4 a quarter of a bit apart.</summary>
    static readonly (string Label, double Bits, double TokensPerSecond)[] s_decode8B =
    [
        ("q1_0", 1.13, 5.40), ("q4_0", 4.5, 4.13), ("q8_0", 8.5, 2.31), ("f16", 16, 1.37), // llama.cpp
        ("q1_0", 1.13, 16.90), ("q4_0", 4.5, 5.48), ("int4 (pure)", 4.25, 4.89), ("q8_0", 8.5, 3.69),
        ("int8 (pure)", 8.0, 3.79), ("f16", 16, 1.57), ("bf16", 16, 1.63),
    ];

    [Fact]
    public void Place_EveryLabelOfThe8BDecodeChartFindsAFreePlace()
    {
        var points = s_decode8B.Select(p => (p.Bits, p.TokensPerSecond)).ToList();
        var labels = s_decode8B.Select(p => p.Label).ToList();

        var placements = ChartLabels.Place(points, labels, (0.9, 16.8), (0, 27), Width, Height);

        // No label overprints another label, a marker, another point's surroundings or the plot's edge (with the four
        // first corners alone, the 16-bit cluster's labels do).
        Assert.All(placements, p => Assert.Equal(0, p.Overprint));
        // Each label stays near its point: at most two text heights beyond the first ring.
        Assert.All(placements, p => Assert.InRange(Math.Abs(p.OffsetY), 7, 7 + 2 * 16));
    }

    [Fact]
    public void Place_KeepsTheFirstCornerWhenNothingIsInTheWay()
    {
        var placements = ChartLabels.Place([(1.0, 1.0), (9.0, 9.0)], ["a", "b"], (0, 10), (0, 10), Width, Height);

        Assert.All(placements, p => Assert.Equal(0, p.Overprint));
        Assert.Equal(ScottPlot.Alignment.LowerLeft, placements[0].Alignment); // above-right of its point
        Assert.Equal((7f, -7f), (placements[0].OffsetX, placements[0].OffsetY));
    }

    [Fact]
    public void Place_KeepsLabelsClearOfOtherPoints()
    {
        // 1 px per unit. B's marker ends 4 px above where A's first corner (above-right) would put A's label: free of
        // B's marker, but the label would read as B's. A takes the next free corner (below-right).
        var placements = ChartLabels.Place([(100.0, 100.0), (110.0, 134.0)], ["a", "b"], (0, 1000), (0, 1000), 1000, 1000);

        Assert.All(placements, p => Assert.Equal(0, p.Overprint));
        Assert.Equal(ScottPlot.Alignment.UpperLeft, placements[0].Alignment);
    }

    [Fact]
    public void Place_ReportsOverprintWhenNoCandidateIsFree()
    {
        // A label wider than the plot fits nowhere.
        var placements = ChartLabels.Place([(0.5, 0.5)], ["a label far wider than the plot"], (0, 1), (0, 1), 60, 30);

        Assert.True(placements[0].Overprint > 0);
    }
}
