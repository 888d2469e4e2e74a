// PerplexityMetricsTests: perplexity and bits per byte from NLL sums.
using Compression.Evaluation.Metrics;

namespace Compression.Tests.Evaluation.Metrics;

public class PerplexityMetricsTests
{
    [Fact]
    public void UniformNllGivesVocabularySize() =>
        Assert.Equal(50, PerplexityMetrics.Perplexity(10 * Math.Log(50), 10), 9);

    [Fact]
    public void BitsPerByte_ConvertsNatsToBitsPerByte()
    {
        // 8 tokens of ln 256 nats each spelling 8 bytes → 8 bits per byte; spelling 16 bytes → 4.
        Assert.Equal(8, PerplexityMetrics.BitsPerByte(8 * Math.Log(256), 8), 12);
        Assert.Equal(4, PerplexityMetrics.BitsPerByte(8 * Math.Log(256), 16), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => PerplexityMetrics.BitsPerByte(1, 0));
    }
}
