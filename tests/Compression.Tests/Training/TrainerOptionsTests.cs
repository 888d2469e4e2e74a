// TrainingOptions: the proxy preset's shape constraints, validation messages, JSON round trip.
using System.Text.Json;
using Compression.Model;
using Compression.Training;

namespace Compression.Tests.Training;

public class TrainerOptionsTests
{
    [Fact]
    public void Proxy_preset_is_a_gqa_llama3_model_the_quantizers_can_pack()
    {
        var o = TrainingOptions.Proxy;
        o.Validate();
        var c = o.Config;
        Assert.Equal(1024, c.VocabSize);
        Assert.Equal(32, c.HeadDim);
        Assert.True(c.NumKeyValueHeads < c.NumHeads, "GQA");
        // Every matrix row (the input dimension) must be a whole number of 128-element blocks (Q1_0, INT4 g128).
        Assert.All(LlamaTensorLayout.Expected(c).Where(s => s.Shape.Length == 2), s => Assert.Equal(0, s.Shape[1] % 128));
        // llama3 scaling must really change some frequencies, and leave the highest ones alone.
        var scaled = RotaryEmbedding.InverseFrequencies(c);
        var plain = RotaryEmbedding.InverseFrequencies(c with { RopeScaling = null });
        Assert.Equal(plain[0], scaled[0]);
        Assert.True(scaled[^1] < plain[^1] / 2);
        Assert.True(o.SequenceLength <= c.MaxPositionEmbeddings);
    }

    [Fact]
    public void Invalid_options_name_the_option()
    {
        var o = TrainerTestData.TinyOptions();
        Assert.Contains("warmup_steps", Assert.Throws<ArgumentException>(() => (o with { WarmupSteps = 100 }).Validate()).Message);
        Assert.Contains("sequence_length", Assert.Throws<ArgumentException>(() => (o with { SequenceLength = 65 }).Validate()).Message);
        Assert.Contains("bfloat16", Assert.Throws<ArgumentException>(() => (o with { DType = "bfloat16" }).Validate()).Message);
    }

    [Fact]
    public void Options_round_trip_through_json()
    {
        var o = TrainingOptions.Proxy;
        var back = JsonSerializer.Deserialize<TrainingOptions>(JsonSerializer.Serialize(o))!;
        Assert.Equal(o with { Config = back.Config }, back);
        Assert.Equal(o.Config.ToJson(), back.Config.ToJson());
    }
}
