// ChartFiles: test checks that a chart file really is a PNG or an SVG document.
using System.Buffers.Binary;
using System.Xml;
using System.Xml.Linq;
using Compression.Reporting;

namespace Compression.Tests.Reporting;

internal static class ChartFiles
{
    static readonly byte[] s_pngMagic = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Asserts the file starts with the PNG signature and an IHDR chunk, and returns the image size.</summary>
    public static (int Width, int Height) AssertPng(string path)
    {
        Assert.True(File.Exists(path), $"missing {path}");
        byte[] b = File.ReadAllBytes(path);
        Assert.True(b.Length > 33, $"{path} is too short for a PNG");
        Assert.Equal(s_pngMagic, b[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(b, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(20)));
    }

    /// <summary>Asserts the file parses as XML whose root element is an SVG &lt;svg&gt;, and returns the document.</summary>
    public static XDocument AssertSvg(string path)
    {
        Assert.True(File.Exists(path), $"missing {path}");
        using var reader = XmlReader.Create(path, new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        var doc = XDocument.Load(reader);
        Assert.Equal("svg", doc.Root!.Name.LocalName);
        Assert.Equal("http://www.w3.org/2000/svg", doc.Root.Name.NamespaceName);
        return doc;
    }

    public static void AssertFiles(ChartFile chart)
    {
        var (w, h) = AssertPng(chart.PngPath);
        Assert.True(w > 100 && h > 100, $"{chart.PngPath} is {w}×{h}");
        AssertSvg(chart.SvgPath);
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(chart.PngPath)!, "*.tmp"));
    }
}
