// FakeQuantizer: the training forward is bit for bit the packed format's dequantization, and the gradient passes straight through.
using Compression.Model;
using Compression.Quantization;
using Compression.Training.Qat;
using static TorchSharp.torch;

namespace Compression.Tests.Training.Qat;

public class FakeQuantizerTests
{
    /// <summary>Every quantized format the workbench can produce (new formats, ternary ones included, join automatically).</summary>
    public static TheoryData<string> QuantizedFormats()
    {
        var data = new TheoryData<string>();
        foreach (var f in FormatRegistry.All.Where(f => f.CanQuantize && !f.IsFloat)) data.Add(f.Name);
        return data;
    }

    /// <summary>Row length a multiple of every block size in the registry (256 covers q6_k's super-blocks and 128-blocks).</summary>
    private const int Cols = 512;

    private static Tensor RandomWeight(int rows, int cols, int seed)
    {
        var g = new Generator((ulong)seed);
        var w = normal(0, 0.05, [rows, cols], generator: g);
        w[0, 3] = tensor(0f);          // exact zeros and a negative zero: the sign rules must match the quantizer's
        w[1, 7] = tensor(-0f);
        w[2] = w[2] * 40;              // a row of large values (scales far from the others)
        return w;
    }

    /// <summary>The independent reference: the format's scalar quantize + dequantize, row by row.</summary>
    private static float[] ReferenceDequantized(float[] w, int rows, int cols, TensorFormat f)
    {
        var packed = new byte[f.RowBytes(cols)];
        var result = new float[w.Length];
        for (int r = 0; r < rows; r++)
        {
            f.QuantizeRowReference(w.AsSpan(r * cols, cols), packed);
            f.DequantizeRowReference(packed, result.AsSpan(r * cols, cols));
        }
        return result;
    }

    [Theory]
    [MemberData(nameof(QuantizedFormats))]
    public void Forward_is_bit_exact_to_the_formats_reference_dequantization(string name)
    {
        var format = FormatRegistry.Get(name);
        const int rows = 6;
        using var w = RandomWeight(rows, Cols, 11).requires_grad_(true);
        using var fq = FakeQuantizer.Apply(w, format);
        var expected = ReferenceDequantized(w.detach().data<float>().ToArray(), rows, Cols, format);
        var actual = fq.detach().data<float>().ToArray();
        int mismatches = 0;
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i])
                && !(expected[i] == 0 && actual[i] == 0)) mismatches++; // ±0 compare equal in value; both are the same weight
        Assert.Equal(0, mismatches);
        // The projection really quantizes: a 1-bit or 4-bit weight is not the float one.
        if (format.NominalBits <= 4) Assert.True((fq - w).abs().max().item<float>() > 1e-3f);
    }

    [Theory]
    [InlineData("q1_0")]
    [InlineData("q4_0")]
    [InlineData("q8_0")]
    [InlineData("tq2_0")]
    [InlineData("tq1_0")]
    public void Q1_Q4_Q8_and_ternary_match_the_packed_weight_the_model_loads(string name)
    {
        // The same weight through PackedWeight (what PackedLinear and the GGUF path hold) and through the fake quantizer.
        var format = FormatRegistry.Get(name);
        using var w = RandomWeight(4, Cols, 5);
        var packed = PackedWeight.Quantize(w, format);
        try
        {
            using var dense = ModelQuantizer.Dequantize(packed);
            using var fq = FakeQuantizer.Project(w, format);
            Assert.True(dense.allclose(fq, rtol: 0, atol: 0), $"{name}: fake quantization differs from the packed weight");
        }
        finally { packed.Release(); }
    }

    [Fact]
    public void Gradient_to_the_master_weight_is_the_float_layers_gradient_at_the_quantized_point()
    {
        var format = FormatRegistry.Get("q1_0");
        using var w = RandomWeight(8, 256, 3);
        using var layer = new FakeQuantLinear(w, format);
        var g = new Generator(9);
        using var x = normal(0, 1, [2, 5, 256], generator: g);      // (B, T, In)
        using var upstream = normal(0, 1, [2, 5, 8], generator: g); // dL/dy
        layer.forward(x).mul(upstream).sum().backward();

        // The float layer evaluated at Q(W): its weight gradient, by hand, is Σ_bt upstreamᵀ·x.
        using var deq = FakeQuantizer.Project(w, format);
        using var dense = new DenseLinear(deq.clone(), requiresGrad: true);
        dense.forward(x).mul(upstream).sum().backward();
        using var byHand = upstream.reshape(-1, 8).t().matmul(x.reshape(-1, 256));

        var grad = layer.Weight.grad!;
        Assert.True((grad - dense.Weight.grad!).abs().max().item<float>() < 1e-5f, "STE gradient differs from the float layer's");
        Assert.True((grad - byHand).abs().max().item<float>() < 1e-4f, "STE gradient differs from upstreamᵀ·x");
    }

    [Fact]
    public void Embedding_gradient_reaches_the_looked_up_rows_straight_through()
    {
        var format = FormatRegistry.Get("q1_0");
        using var w = RandomWeight(16, 128, 4);
        using var embedding = new FakeQuantEmbedding(w, format);
        using var ids = tensor(new long[] { 3, 3, 9 }, [1, 3]);
        using var upstream = normal(0, 1, [1, 3, 128], generator: new Generator(2));
        var h = embedding.forward(ids);
        Assert.True(h[0, 0].allclose(FakeQuantizer.Project(w, format)[3], rtol: 0, atol: 0));
        h.mul(upstream).sum().backward();
        var grad = embedding.Weight.grad!;
        Assert.True((grad[3] - (upstream[0, 0] + upstream[0, 1])).abs().max().item<float>() < 1e-6f);
        Assert.True((grad[9] - upstream[0, 2]).abs().max().item<float>() < 1e-6f);
        Assert.Equal(0f, grad[0].abs().max().item<float>());
    }

    [Fact]
    public void Refuses_a_row_the_format_cannot_hold()
    {
        using var w = zeros(2, 96);
        var e = Assert.Throws<ArgumentException>(() => FakeQuantizer.Apply(w, FormatRegistry.Get("q1_0")));
        Assert.Contains("96", e.Message);
    }
}
