// ReadBandwidthTests: the bandwidth probe runs, reports a plausible rate, and rejects nonsense settings; the roofline
// arithmetic and the per-token traffic of a GGUF match hand counts.
using Compression.Checkpoints.Gguf;
using Compression.Evaluation.Throughput;

namespace Compression.Tests.Evaluation.Throughput;

public class ReadBandwidthTests
{
    [Fact]
    public void MeasuresAPositiveRateOverASmallBuffer()
    {
        var r = ReadBandwidth.Measure(new BandwidthOptions { Threads = 2, Bytes = 32L << 20, Passes = 2 });
        Assert.InRange(r.BytesPerSecond, 1e8, 1e13); // between 100 MB/s and 10 TB/s
        Assert.True(r.BytesPerSecond >= r.MedianBytesPerSecond);
        Assert.True(r.Bytes <= 32L << 20 && r.Bytes > 31L << 20);
    }

    [Fact]
    public void RejectsABufferTooSmallToMeasure() =>
        Assert.Throws<ArgumentException>(() => ReadBandwidth.Measure(new BandwidthOptions { Bytes = 4096 }));

    [Fact]
    public void GgufTrafficIsEveryTensorButOneEmbeddingRow()
    {
        string path = TestPaths.TinyLlamaFile("model-q8_0.gguf");
        using var file = GgufFile.Open(path);
        var embd = file.Tensors.Single(t => t.Name == "token_embd.weight");
        long all = file.Tensors.Sum(t => t.ByteLength);
        // vocab 512 rows of 128 Q8_0 weights: 4 blocks × 34 bytes = 136 bytes a row.
        Assert.Equal(512 * 136, embd.ByteLength);
        Assert.Equal(all - embd.ByteLength + 136, DecodeTraffic.WeightBytesPerToken(path));
    }

    [Fact]
    public void TiedEmbeddingsAreReadWholeByTheHead() =>
        Assert.Equal(1000 + 50, DecodeTraffic.WeightBytesPerToken([("token_embd.weight", 1000L, 10L), ("blk.0.attn_q.weight", 50L, 5L)]));

    [Fact]
    public void RooflineIsBandwidthOverBytes() => Assert.Equal(4.0, DecodeTraffic.RooflineTokensPerSecond(20e9, 5_000_000_000));
}
