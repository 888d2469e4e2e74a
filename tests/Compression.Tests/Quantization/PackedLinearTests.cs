// PackedLinearTests: the packed layer and embedding compute what torch computes on their dequantized weights.
using Compression.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Tests.Quantization;

public class PackedLinearTests
{
    public static TheoryData<string> Formats => TestData.FormatNames();

    [Theory, MemberData(nameof(Formats))]
    public void ForwardEqualsTorchLinearOnDequantizedWeights(string name)
    {
        var f = FormatRegistry.Get(name);
        const int outF = 48, inF = 256;
        var wData = TestData.Gaussian(outF * inF, 21);
        using var w = tensor(wData, [outF, inF]);
        using var layer = new PackedLinear(w, f);
        Assert.Equal(f.ByteCount(outF, inF), layer.WeightBytes);
        Assert.Equal(name, layer.FormatName);
        var packed = TestData.Quantize(f, wData, outF, inF);
        using var wd = tensor(TestData.Dequantize(f, packed, outF, inF), [outF, inF]);

        using var xs = tensor(TestData.Gaussian(2 * 5 * inF, 22), [2, 5, inF]);   // prefill: tiled GEMM in float
        using var ys = layer.forward(xs);
        using var refS = nn.functional.linear(xs, wd);
        Assert.Equal(new long[] { 2, 5, outF }, ys.shape);
        Assert.True(ys.allclose(refS, rtol: 1e-4, atol: 1e-4), $"{name}: prefill max diff {(ys - refS).abs().max().item<float>()}");

        // Decode: GEMV. Integer kernels see x̂ = x quantized to Q8 blocks, so compare against torch on x̂.
        var xv = TestData.Gaussian(inF, 23);
        var xhat = f.IsFloat ? xv
            : f.ActivationBlock == Compression.Kernels.ActivationQ8K.Block ? Dequantized(Compression.Kernels.ActivationQ8K.Quantize(xv))
            : Dequantized(Compression.Kernels.ActivationQ8.Quantize(xv));
        using var x1 = tensor(xv, [1, 1, inF]);
        using var y1 = layer.forward(x1);
        using var ref1 = nn.functional.linear(tensor(xhat, [1, 1, inF]), wd);
        Assert.True(y1.allclose(ref1, rtol: 1e-4, atol: 1e-4), $"{name}: decode max diff {(y1 - ref1).abs().max().item<float>()}");
    }

    private static unsafe float[] Dequantized(Compression.Kernels.ActivationQ8K a)
    {
        var x = new float[a.Cols];
        for (int i = 0; i < a.Cols; i++) x[i] = a.Q[i] * a.D[i / Compression.Kernels.ActivationQ8K.Block];
        return x;
    }

    private static unsafe float[] Dequantized(Compression.Kernels.ActivationQ8 a)
    {
        var x = new float[a.Cols];
        for (int i = 0; i < a.Cols; i++) x[i] = a.Q[i] * a.D[i / 32];
        return x;
    }

    [Fact]
    public void FromPackedKeepsTheBytes()
    {
        var f = FormatRegistry.Get("q4_0");
        var packed = TestData.Quantize(f, TestData.Gaussian(8 * 64, 5), 8, 64);
        using var layer = PackedLinear.FromPacked(packed, f, 8, 64);
        Assert.Equal(packed.Length, layer.WeightBytes);
        Assert.True(layer.Weight.RowSpan(0, 8).SequenceEqual(packed));
        Assert.Throws<ArgumentException>(() => PackedLinear.FromPacked(packed.AsSpan(1), f, 8, 64));
    }

    [Fact]
    public void EmbeddingDequantizesRowsAndSharesMemoryWithTheTiedHead()
    {
        var f = FormatRegistry.Get("q8_0");
        const int vocab = 40, hidden = 64;
        var wData = TestData.Gaussian(vocab * hidden, 9);
        using var w = tensor(wData, [vocab, hidden]);
        using var emb = new PackedEmbedding(w, f);
        var wd = TestData.Dequantize(f, TestData.Quantize(f, wData, vocab, hidden), vocab, hidden);
        using var ids = tensor(new long[] { 3, 0, 39, 3, 17, 8 }, [2, 3]);
        using var e = emb.forward(ids);
        Assert.Equal(new long[] { 2, 3, hidden }, e.shape);
        var got = e.data<float>().ToArray();
        long[] idv = [3, 0, 39, 3, 17, 8];
        for (int i = 0; i < idv.Length; i++)
            for (int k = 0; k < hidden; k++) Assert.Equal(wd[idv[i] * hidden + k], got[i * hidden + k]);
        Assert.Throws<ArgumentOutOfRangeException>(() => emb.forward(tensor(new long[] { 40 }, [1, 1])));

        using var head = (PackedLinear)emb.AsTiedHead();
        Assert.True(head.Weight == ((PackedLinear)emb.AsTiedHead()).Weight); // same packed memory, no copy
        using var x = tensor(TestData.Gaussian(2 * hidden, 10), [2, hidden]);
        using var y = head.forward(x);
        using var yRef = nn.functional.linear(x, tensor(wd, [vocab, hidden]));
        Assert.True(y.allclose(yRef, rtol: 1e-4, atol: 1e-4));
    }
}
