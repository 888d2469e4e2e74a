// MappedLoadingTests: packed weights read in place from the checkpoint's memory map — same logits as copying them,
// the mapping outlives the checkpoint, and a file whose tensor data is misaligned falls back to copying.
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using Compression.Tests.Model;

namespace Compression.Tests.Quantization;

public class MappedLoadingTests
{
    private static ModelSession Open(string path, bool map) => ModelSession.Open(path, new ModelSessionOptions
    {
        PackedLayers = (device, dtype) => PackedLoading.Hooks(device, dtype, map),
    });

    private static IEnumerable<PackedWeight> PackedWeights(LlamaModel m) =>
        m.LinearLayers().Select(l => l.Layer).OfType<PackedLinear>().Select(p => p.Weight)
            .Concat(m.EmbedTokens is PackedEmbedding e ? [e.Weight] : []);

    [Theory]
    [InlineData("model-q4_0.gguf")]
    [InlineData("model-q8_0.gguf")]
    [InlineData("model-q1_0.gguf")]
    public void Mapped_gguf_weights_give_the_same_logits_as_copied_ones(string file)
    {
        using var mapped = Open(TestPaths.TinyLlamaFile(file), map: true);
        using var copied = Open(TestPaths.TinyLlamaFile(file), map: false);
        Assert.All(PackedWeights(mapped.Model), w => Assert.True(w.IsMapped));
        Assert.All(PackedWeights(copied.Model), w => Assert.False(w.IsMapped));
        // Q and K keep llama.cpp's row permutation in place; the layer un-permutes its outputs.
        Assert.Contains(PackedWeights(mapped.Model), w => w.StoredRowOrder is not null);
        // The checkpoint was disposed inside Open: the weights keep the mapping alive.
        var a = mapped.Model.Logits(ReferenceLogits.PromptTokens);
        var b = copied.Model.Logits(ReferenceLogits.PromptTokens);
        Assert.Equal(0.0, ReferenceLogits.MaxAbsDiff(a, b));
        Assert.Equal(copied.Model.WeightBytes, mapped.Model.WeightBytes);
    }

    [Fact]
    public void Quantizing_a_mapped_model_equals_quantizing_a_copied_one()
    {
        using var mapped = Open(TestPaths.TinyLlamaFile("model-q8_0.gguf"), map: true);
        using var copied = Open(TestPaths.TinyLlamaFile("model-q8_0.gguf"), map: false);
        var policy = QuantizationPolicy.PureOf(FormatRegistry.Get("q4_0"));
        using var qa = ModelQuantizer.Apply(mapped.Model, policy);
        using var qb = ModelQuantizer.Apply(copied.Model, policy);
        foreach (var (wa, wb) in PackedWeights(qa).Zip(PackedWeights(qb)))
        {
            Assert.False(wa.IsMapped);
            Assert.Null(wa.StoredRowOrder); // a converted copy is written in model order
            for (int r = 0; r < wa.Rows; r++) Assert.True(wa.Row(r).SequenceEqual(wb.Row(r)));
        }
        Assert.Equal(0.0, ReferenceLogits.MaxAbsDiff(qa.Logits(ReferenceLogits.PromptTokens), qb.Logits(ReferenceLogits.PromptTokens)));
    }

    [Fact]
    public void A_gguf_with_misaligned_tensor_data_loads_by_copying()
    {
        string dir = TestPaths.NewTempDir("misaligned");
        try
        {
            string path = Path.Combine(dir, "model-q8_0-align1.gguf");
            // Alignment 1 and a padding key of the right length put the first tensor on an odd address.
            for (int pad = 0; ; pad++)
            {
                Rewrite(TestPaths.TinyLlamaFile("model-q8_0.gguf"), path, new string('x', pad));
                using var probe = CheckpointOpener.Open(path);
                if (probe.Tensors.Values.Any(t => t.Format.Name == "q8_0" && !PackedWeight.CanMap(t))) break;
                Assert.True(pad < 8, "could not produce a misaligned tensor");
            }
            using var misaligned = Open(path, map: true);
            using var reference = Open(TestPaths.TinyLlamaFile("model-q8_0.gguf"), map: true);
            Assert.Contains(PackedWeights(misaligned.Model), w => !w.IsMapped);
            Assert.Equal(0.0, ReferenceLogits.MaxAbsDiff(misaligned.Model.Logits(ReferenceLogits.PromptTokens),
                reference.Model.Logits(ReferenceLogits.PromptTokens)));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Copies a GGUF's metadata and tensors into a file with alignment 1 and an extra padding key.</summary>
    private static void Rewrite(string source, string destination, string padding)
    {
        using var input = GgufFile.Open(source);
        using var writer = new GgufWriter(destination, alignment: 1);
        foreach (var (key, value) in input.Metadata)
            if (key != GgufFile.AlignmentKey) writer.Add(key, value);
        writer.AddString("test.padding", padding);
        foreach (var t in input.Tensors) writer.AddTensor(t.Name, t.Dimensions, t.Format);
        foreach (var t in input.Tensors) writer.WriteTensorData(input.Mapped.Span(t.Offset, checked((int)t.ByteLength)));
        writer.Complete();
    }
}
