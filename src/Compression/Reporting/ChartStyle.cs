// ChartStyle: shared look of the report charts (font, size, colours, log ticks) and their atomic PNG+SVG output.
using ScottPlot;

using Compression.IO;

namespace Compression.Reporting;

/// <summary>Plot set-up and saving shared by every chart.</summary>
internal static class ChartStyle
{
    public const int Width = 960;
    public const int Height = 600;

    public static readonly Color BaselineColor = Colors.Black;
    public static readonly Color FrontColor = new(0xD6, 0x27, 0x28);

    // With no fonts, fontconfig still reports one family with an empty name.
    static readonly Lazy<string[]> s_fontFamilies = new(() =>
        SkiaSharp.SKFontManager.Default.GetFontFamilies().Where(f => !string.IsNullOrWhiteSpace(f)).ToArray());

    static readonly Lazy<string?> s_sansFont = new(() =>
    {
        var installed = s_fontFamilies.Value.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans" }.FirstOrDefault(installed.Contains);
    });

    /// <summary>
    /// Null when the machine has fonts; otherwise why the charts will lack text. Without any font SkiaSharp draws no
    /// glyphs at all and ScottPlot does not complain, so the charts come out with blank titles, ticks and labels.
    /// </summary>
    public static string? FontProblem => s_fontFamilies.Value.Length > 0 ? null
        : "no fonts are installed, so the charts have no text (titles, ticks, labels); install one, e.g. `apt-get install fonts-dejavu-core`";

    /// <summary>The i-th colour of the Category10 palette (the baseline is drawn black).</summary>
    public static Color Palette(int i) => new ScottPlot.Palettes.Category10().GetColor(i);

    /// <summary>A plot with title and axis labels, in a sans-serif font when the machine has one.</summary>
    public static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        // ScottPlot's fallback on Linux is a serif face; a sans face reads better at chart sizes.
        if (s_sansFont.Value is { } font) plot.Font.Set(font);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    /// <summary>Writes <c>stem.png</c> and <c>stem.svg</c> atomically and returns the chart's description.</summary>
    public static ChartFile Save(Plot plot, string stem, string title, IReadOnlyList<ChartSeries> series,
        IReadOnlyList<string>? omitted = null, int width = Width, int height = Height)
    {
        string png = stem + ".png", svg = stem + ".svg";
        AtomicFile.WriteAllBytes(png, plot.GetImageBytes(width, height, ImageFormat.Png));
        string svgXml;
        using (NativeStderr.Silenced()) svgXml = plot.GetSvgXml(width, height);
        AtomicFile.WriteAllText(svg, svgXml);
        return new ChartFile(title, Path.GetFullPath(png), Path.GetFullPath(svg), series, omitted ?? []);
    }

    /// <summary>True when positive values span more than a factor of <paramref name="ratio"/>: then a log axis keeps the small ones readable.</summary>
    public static bool WantsLog(IEnumerable<double> values, double ratio = 8)
    {
        var v = values.Where(double.IsFinite).ToList();
        return v.Count >= 2 && v.All(x => x > 0) && v.Max() / v.Min() > ratio;
    }

    /// <summary>
    /// Labels a log10-transformed y axis with real values at 1, 2, 5 × 10^k between the limits
    /// (ScottPlot 5 draws logarithmic axes as plain axes over log-transformed data).
    /// </summary>
    public static void LogTicks(Plot plot, double min, double max)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        // Under two decades, 1-2-5 leaves too few labels; add 3 and 7.
        double[] steps = Math.Log10(max / min) < 2 ? [1, 2, 3, 5, 7] : [1, 2, 5];
        for (int k = (int)Math.Floor(Math.Log10(min)) - 1; k <= (int)Math.Ceiling(Math.Log10(max)) + 1; k++)
        {
            foreach (double m in steps)
            {
                double v = m * Math.Pow(10, k);
                if (v >= min / 1.5 && v <= max * 1.5) ticks.AddMajor(Math.Log10(v), FormatValue(v));
            }
        }
        plot.Axes.Left.TickGenerator = ticks;
    }

    /// <summary>Compact value text for labels: 3 significant digits, no exponent for ordinary magnitudes.</summary>
    public static string FormatValue(double v)
    {
        double a = Math.Abs(v);
        return a == 0 ? "0" : a >= 1e5 || a < 1e-3 ? v.ToString("0.##E+0", System.Globalization.CultureInfo.InvariantCulture)
            : v.ToString(a >= 100 ? "0" : a >= 10 ? "0.#" : a >= 1 ? "0.##" : "0.###", System.Globalization.CultureInfo.InvariantCulture);
    }
}
