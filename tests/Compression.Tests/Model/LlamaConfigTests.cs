// Tests for LlamaConfig parsing, validation and the shipped presets.
using Compression.Model;

namespace Compression.Tests.Model;

public class LlamaConfigTests
{
    [Fact]
    public void Llama31_8B_preset_has_the_published_parameter_count()
    {
        var c = LlamaConfig.Llama31_8B;
        Assert.Equal(4096, c.HiddenSize);
        Assert.Equal(128, c.HeadDim);
        Assert.Equal(8_030_261_248L, LlamaTensorLayout.ParameterCount(c));
        Assert.Equal(16_060_522_496L, LlamaTensorLayout.ParameterCount(c) * 2);
    }

    [Theory]
    [InlineData("llama-3.1-70b", 70_553_706_496L)]
    [InlineData("llama-3.2-1b", 1_235_814_400L)]
    [InlineData("llama-3.2-3b", 3_212_749_824L)]
    public void Presets_match_published_parameter_counts(string name, long parameters) =>
        Assert.Equal(parameters, LlamaTensorLayout.ParameterCount(LlamaConfig.Preset(name)));

    [Fact]
    public void Eos_may_be_a_list_and_head_dim_defaults_from_hidden_size()
    {
        var c = LlamaConfig.Parse("""
            {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4,
             "vocab_size": 100, "bos_token_id": 1, "eos_token_id": [2, 3], "rms_norm_eps": 1e-6}
            """);
        Assert.Equal(16, c.HeadDim);
        Assert.Equal(4, c.NumKeyValueHeads);
        Assert.Equal([2, 3], c.EosTokenIds);
        Assert.Null(c.RopeScaling);
    }

    [Fact]
    public void Missing_required_field_names_the_file_and_field()
    {
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.Parse("""{"hidden_size": 64}""", "x/config.json"));
        Assert.Contains("x/config.json", e.Message);
        Assert.Contains("intermediate_size", e.Message);
    }
}
