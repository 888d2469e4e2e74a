// BlockCodecTests: every format's codec, fitted and coded block by block, writes exactly the format's reference bytes —
// the registry's formats and the GPTQ checkpoint grids (4/8-bit, sym and asym), which are not in the registry.
using System.Text.RegularExpressions;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Tests.Quantization.Methods;

public class BlockCodecTests
{
    public static TheoryData<string> CodecFormats()
    {
        var data = new TheoryData<string>();
        foreach (var f in FormatRegistry.All.Where(f => f.Codec is not null)) data.Add(f.Name);
        foreach (string gptq in (string[])["gptq4_g32", "gptq4_g128_asym", "gptq8_g64", "gptq8_g32_asym"]) data.Add(gptq);
        return data;
    }

    /// <summary>A registry format by name, or a GPTQ grid named as <see cref="GptqFormat.Name"/> ("gptq4_g128_asym").</summary>
    internal static TensorFormat Format(string name) =>
        Regex.Match(name, @"^gptq(\d+)_g(\d+)(_asym)?$") is { Success: true } m
            ? new GptqFormat(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), symmetric: !m.Groups[3].Success)
            : FormatRegistry.Get(name);

    [Theory]
    [MemberData(nameof(CodecFormats))]
    public void Fit_then_code_gives_the_reference_quantizers_bytes_and_values(string name)
    {
        var format = Format(name);
        Assert.Equal(name, format.Name);
        var codec = format.Codec!;
        int g = codec.BlockSize, cols = 4 * g, rows = 16;
        var w = TestData.Gaussian(rows * cols, 11, 0.05f);
        for (int j = 0; j < g; j++) w[2 * g + j] = 0.125f; // a constant block (range floor, ties)
        var expected = TestData.Quantize(format, w, rows, cols);
        var actual = new byte[expected.Length];
        var codes = new int[g];
        long rb = format.RowBytes(cols);
        var values = TestData.Dequantize(format, expected, rows, cols);
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < cols / g; b++)
            {
                var x = w.AsSpan(r * cols + b * g, g);
                var p = codec.Fit(x);
                for (int j = 0; j < g; j++)
                {
                    codes[j] = codec.Code(x[j], p);
                    Assert.Equal(values[r * cols + b * g + j], codec.Value(codes[j], p));
                }
                codec.Write(p, codes, actual.AsSpan((int)(r * rb + b * format.BytesPerBlock), format.BytesPerBlock));
            }
        Assert.Equal(expected, actual);
    }
}
