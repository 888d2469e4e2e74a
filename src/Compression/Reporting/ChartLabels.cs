// ChartLabels: places point labels so they neither overprint each other nor run off the plot's edges.
using ScottPlot;

namespace Compression.Reporting;

/// <summary>
/// Greedy label placement in approximate pixel space: each label takes the first of four corners around its point
/// (above-right, below-right, above-left, below-left) whose text box stays inside the data area and overlaps no
/// placed label, no marker, and no other point's marker's surroundings; when all four are taken (points of several series at nearly the same place, as f16 and
/// bf16 or q8_0 and int8 at 8B), the same corners one and then two text heights further out; when none is free, the
/// candidate with the least overlap.
/// </summary>
internal static class ChartLabels
{
    const double CharWidth = 7.6, TextHeight = 16, Offset = 7, MarkerHalf = 7, Clearance = 8;

    /// <summary>Where to put each label: the text alignment and pixel offset for a ScottPlot Text at the point, and how
    /// many square pixels of it overprint other labels, markers or the plot's edge (0 when it found a free place).</summary>
    public readonly record struct Placement(Alignment Alignment, float OffsetX, float OffsetY, double Overprint = 0);

    /// <summary>Rings of candidates: the four corners, then the same one and two text heights further out.</summary>
    const int Rings = 3;

    /// <param name="points">Data coordinates of the labelled points (already transformed, e.g. log10).</param>
    /// <param name="labels">Label text per point.</param>
    /// <param name="xRange">Visible x range in data units.</param>
    /// <param name="yRange">Visible y range in data units.</param>
    /// <param name="width">Approximate width of the data area in pixels.</param>
    /// <param name="height">Approximate height of the data area in pixels.</param>
    public static Placement[] Place(IReadOnlyList<(double X, double Y)> points, IReadOnlyList<string> labels,
        (double Min, double Max) xRange, (double Min, double Max) yRange, double width, double height)
    {
        double xs = xRange.Max > xRange.Min ? width / (xRange.Max - xRange.Min) : 1;
        double ys = yRange.Max > yRange.Min ? height / (yRange.Max - yRange.Min) : 1;
        var px = points.Select(p => ((p.X - xRange.Min) * xs, height - (p.Y - yRange.Min) * ys)).ToArray();
        // Other points' markers keep a clearance around them, so that a label never sits closer to another point than to
        // its own (which would read as that point's).
        var markers = px.Select(p => Box(p.Item1 - MarkerHalf, p.Item2 - MarkerHalf, 2 * MarkerHalf, 2 * MarkerHalf)).ToArray();
        var cleared = px.Select(p => Box(p.Item1 - MarkerHalf - Clearance, p.Item2 - MarkerHalf - Clearance,
            2 * (MarkerHalf + Clearance), 2 * (MarkerHalf + Clearance))).ToArray();
        var taken = new List<(double L, double T, double R, double B)>();
        var result = new Placement[points.Count];
        (int dx, int dy, Alignment a)[] corners =
            [(1, -1, Alignment.LowerLeft), (1, 1, Alignment.UpperLeft), (-1, -1, Alignment.LowerRight), (-1, 1, Alignment.UpperRight)];
        for (int i = 0; i < points.Count; i++)
        {
            double w = labels[i].Length * CharWidth;
            double bestCost = double.PositiveInfinity;
            (double L, double T, double R, double B) bestBox = default;
            for (int ring = 0; ring < Rings && bestCost > 0; ring++)
            {
                double away = Offset + ring * TextHeight; // vertical distance from the point to the text's near edge
                foreach (var (dx, dy, a) in corners)
                {
                    double left = dx > 0 ? px[i].Item1 + Offset : px[i].Item1 - Offset - w;
                    double top = dy < 0 ? px[i].Item2 - away - TextHeight : px[i].Item2 + away;
                    var box = Box(left, top, w, TextHeight);
                    double outside = Math.Max(0, -box.L) + Math.Max(0, box.R - width) + Math.Max(0, -box.T) + Math.Max(0, box.B - height);
                    double cost = outside * 10 + taken.Sum(t => Overlap(box, t)) + Overlap(box, markers[i]);
                    for (int j = 0; j < px.Length; j++) if (j != i) cost += Overlap(box, cleared[j]);
                    if (cost < bestCost)
                    {
                        bestCost = cost;
                        bestBox = box;
                        result[i] = new Placement(a, (float)(dx * Offset), (float)(dy * away), cost);
                    }
                    if (cost == 0) break;
                }
            }
            taken.Add(bestBox);
        }
        return result;
    }

    static (double L, double T, double R, double B) Box(double left, double top, double w, double h) => (left, top, left + w, top + h);

    static double Overlap((double L, double T, double R, double B) a, (double L, double T, double R, double B) b) =>
        Math.Max(0, Math.Min(a.R, b.R) - Math.Max(a.L, b.L)) * Math.Max(0, Math.Min(a.B, b.B) - Math.Max(a.T, b.T));
}
