// TernaryLlamaQuantizeTests: the tq1_0/tq2_0 files the workbench writes hold, tensor for tensor, the bytes mainline
// llama.cpp's quantizer (llama_model_quantize --pure) writes from the same f32 GGUF of the trained proxy.
using Compression.Checkpoints.Gguf;
using Compression.Quantization;
using Compression.Tests.Engines;
using LLama.Native;
using Xunit.Abstractions;

namespace Compression.Tests.Quantization;

public class TernaryLlamaQuantizeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("tq2_0", LLamaFtype.LLAMA_FTYPE_MOSTLY_TQ2_0)]
    [InlineData("tq1_0", LLamaFtype.LLAMA_FTYPE_MOSTLY_TQ1_0)]
    public void BlocksAreByteIdenticalToLlamaQuantize(string name, LLamaFtype ftype)
    {
        var format = FormatRegistry.Get(name);
        string dir = TestPaths.NewTempDir("tq-bytes");
        string theirsPath = Path.Combine(dir, "llama.gguf"), oursPath = Path.Combine(dir, "ours.gguf");
        LlamaQuantize.Run(ProxyGguf.F32, theirsPath, ftype, pure: true);
        using (var input = GgufCheckpoint.Open(ProxyGguf.F32))
            GgufExporter.Write(input, input.Tokenizer, (spec, n) => QuantizationPolicy.PureOf(format).Choose(spec, n), oursPath);

        using var theirs = GgufFile.Open(theirsPath);
        using var ours = GgufFile.Open(oursPath);
        byte[] theirBytes = File.ReadAllBytes(theirsPath), ourBytes = File.ReadAllBytes(oursPath);
        int compared = 0, matrices = 0;
        long bytes = 0;
        foreach (var t in theirs.Tensors)
        {
            var o = ours.FindTensor(t.Name);
            Assert.True(o is not null, $"{name}: llama.cpp wrote {t.Name}, the workbench did not");
            Assert.Equal(t.Dimensions, o.Dimensions);
            Assert.Equal(t.GgmlType, o.GgmlType);
            if (t.Dimensions.Length == 2) matrices++;
            if (t.GgmlType != format.GgmlTypeId) continue;
            Assert.Equal(format.ByteCount(t.Dimensions[1], t.Dimensions[0]), t.ByteLength);
            Assert.True(theirBytes.AsSpan((int)t.Offset, (int)t.ByteLength).SequenceEqual(ourBytes.AsSpan((int)o.Offset, (int)o.ByteLength)),
                $"{name}: tensor {t.Name} differs from llama_model_quantize's bytes");
            compared++;
            bytes += t.ByteLength;
        }
        output.WriteLine($"{name}: {compared} tensors, {bytes:N0} bytes identical to llama.cpp's");
        Assert.Equal(theirs.Tensors.Count, ours.Tensors.Count);
        Assert.Equal(matrices, compared); // pure: every matrix (embeddings and output too) is in the ternary type
        Assert.True(compared >= 9, $"only {compared} {name} tensors");
    }
}
