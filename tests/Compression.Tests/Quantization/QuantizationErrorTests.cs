// QuantizationErrorTests: per-tensor relative error of the fixture's linear weights, checked against a direct computation.
using Compression.Checkpoints;
using Compression.Quantization;

namespace Compression.Tests.Quantization;

public class QuantizationErrorTests
{
    [Fact]
    public void Error_grows_as_bits_shrink_for_every_tensor()
    {
        using var ckpt = CheckpointOpener.Open(TestPaths.TinyLlamaFile("model-f32.gguf"));
        var byFormat = new[] { "q8_0", "q4_0", "q1_0" }.Select(f => QuantizationError.Measure(ckpt, FormatRegistry.Get(f))).ToArray();
        foreach (var errors in byFormat)
        {
            Assert.Equal(14, errors.Count);
            Assert.Equal(new[] { "q", "k", "v", "o", "gate", "up", "down", "q", "k", "v", "o", "gate", "up", "down" }, errors.Select(e => e.Projection));
            Assert.Equal(Enumerable.Repeat(0, 7).Concat(Enumerable.Repeat(1, 7)), errors.Select(e => e.Layer));
        }
        for (int i = 0; i < 14; i++)
        {
            var (q8, q4, q1) = (byFormat[0][i], byFormat[1][i], byFormat[2][i]);
            Assert.Equal(("q8_0", "q4_0", "q1_0"), (q8.Format, q4.Format, q1.Format));
            Assert.True(0 < q8.RelativeError && q8.RelativeError < q4.RelativeError && q4.RelativeError < q1.RelativeError,
                $"layer {q8.Layer} {q8.Projection}: {q8.RelativeError:G3} / {q4.RelativeError:G3} / {q1.RelativeError:G3}");
            Assert.True(q1.RelativeError < 1); // sign + mean|w| keeps the direction
        }
    }

    [Theory]
    [InlineData("q4_0")]
    [InlineData("q1_0")]
    [InlineData("int4")]
    public void Value_matches_a_direct_computation_and_does_not_depend_on_the_chunk_size(string name)
    {
        var format = FormatRegistry.Get(name);
        using var ckpt = CheckpointOpener.Open(TestPaths.TinyLlama); // HF safetensors: an independent reader of the same weights
        var t = ckpt["model.layers.1.mlp.down_proj.weight"];
        float[] w = t.ToFloat32();
        int rows = (int)t.Rows, cols = (int)t.Cols;
        var packed = new byte[format.RowBytes(cols)];
        var back = new float[cols];
        double num = 0, den = 0;
        for (int r = 0; r < rows; r++)
        {
            var row = w.AsSpan(r * cols, cols);
            format.QuantizeRowReference(row, packed);
            format.DequantizeRowReference(packed, back);
            for (int j = 0; j < cols; j++) { num += Math.Pow((double)row[j] - back[j], 2); den += (double)row[j] * row[j]; }
        }
        double expected = Math.Sqrt(num / den);
        double got = QuantizationError.RelativeError(t, format);
        Assert.Equal(expected, got, 1e-12);
        Assert.Equal(got, QuantizationError.RelativeError(t, format, chunkBytes: 1)); // one row at a time
        var all = QuantizationError.Measure(ckpt, format);
        Assert.Equal(got, all.Single(e => e.Layer == 1 && e.Projection == "down").RelativeError);
    }

    [Fact]
    public void Rejects_formats_that_cannot_hold_the_rows()
    {
        using var ckpt = CheckpointOpener.Open(TestPaths.TinyLlama);
        // q6_k needs rows of 256: the fixture's 128-wide rows do not fit, and the error names the tensor.
        var e = Assert.Throws<ArgumentException>(() => QuantizationError.Measure(ckpt, FormatRegistry.Get("q6_k")));
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", e.Message);
    }
}
