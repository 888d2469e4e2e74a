// LlamaMlpTests: inference computes silu(gate)·up in place in the gate's output, with exactly the bits of the autograd path.
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Tests.Model;

public class LlamaMlpTests
{
    [Fact]
    public void In_place_inference_gives_the_bits_of_the_autograd_path()
    {
        using var scope = NewDisposeScope();
        using var model = LlamaModel.CreateRandom(new LlamaConfig
        {
            HiddenSize = 64, IntermediateSize = 160, NumLayers = 1, NumHeads = 4, NumKeyValueHeadsRaw = 2,
            VocabSize = 32, MaxPositionEmbeddings = 64, RopeTheta = 500000,
        }, seed: 3);
        var mlp = model.Layers[0].Mlp;
        var x = randn([2, 7, 64], generator: new Generator(5));
        Tensor inference, training;
        using (no_grad()) inference = mlp.forward(x);
        using (enable_grad()) training = mlp.forward(x); // trainable weights: out of place, kept for backward
        Assert.True(training.requires_grad);
        Assert.False(inference.requires_grad);
        var a = inference.data<float>().ToArray();
        var b = training.detach().data<float>().ToArray();
        Assert.Equal(b.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(a[i]) == BitConverter.SingleToInt32Bits(b[i]), $"output {i}: {a[i]:R} vs {b[i]:R}");
    }
}
