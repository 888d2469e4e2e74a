// FamilyPresetTests: each family's flagship preset built on the meta device — tensors by name and shape against the
// approved list (the layout of the published checkpoint's index), parameter counts against the published figures —
// and the config errors a user meets first (unknown architecture, a family's missing field).
using Compression.Model;
using Compression.Model.Families;
using Compression.Quantization;

namespace Compression.Tests.Model.Families;

public class FamilyPresetTests
{
    private static string HfName(string parameter) => parameter == "lm_head.weight" ? parameter : "model." + parameter;

    [Theory]
    [InlineData("qwen3-8b", "qwen3", 399, 8_190_735_360L, 8_190_735_360L)]
    [InlineData("llama-2-7b", "llama", 291, 6_738_415_616L, 6_738_415_616L)]
    [InlineData("mistral-7b-v0.1", "mistral", 291, 7_241_732_096L, 7_241_732_096L)]
    [InlineData("mixtral-8x7b", "mixtral", 995, 46_702_792_704L, 12_879_925_248L)]
    public void FlagshipOnMetaHasTheApprovedTensorsAndCounts(string preset, string family, int tensors, long parameters, long active)
    {
        var config = LlamaConfig.Preset(preset);
        Assert.Equal(family, config.Family.Name);
        using var model = LlamaModel.CreateOnMeta(config);
        var actual = model.named_parameters().Select(p => $"{HfName(p.name)} [{string.Join(", ", p.parameter.shape)}]").ToArray();
        var approved = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Model", $"{preset}.tensors.approved.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        Assert.Equal(approved.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
        Assert.Equal(tensors, actual.Length);
        Assert.Equal(parameters, model.parameters().Sum(p => p.numel()));
        Assert.Equal(parameters, LlamaTensorLayout.ParameterCount(config));
        Assert.Equal(active, LlamaTensorLayout.ActiveParameterCount(config));
    }

    /// <summary>Every published figure of a preset is met to the precision it was published with.</summary>
    [Fact]
    public void PublishedFiguresAgreeWithTheComputedOnes()
    {
        foreach (var f in PublishedSizes.All.Where(f => f.Unit != "bytes"))
        {
            double computed = f.Compute(LlamaConfig.Preset(f.Preset));
            double step = f.Published.ToString(System.Globalization.CultureInfo.InvariantCulture).Split('.') is [_, var d] ? Math.Pow(10, -d.Length) : 1;
            Assert.True(Math.Abs(computed - f.Published) <= (f.Tolerance ?? step / 2) + 1e-9, $"{f.Preset} {f.Quantity}: computed {computed:F4} {f.Unit}, published {f.Published}");
        }
    }

    /// <summary>Bonsai 8B's GGUF (Q1_0 everywhere) against the Qwen3 8B shape: within 0.2% (the figure is a file, with a header).</summary>
    [Fact]
    public void BonsaiFileSizeIsQwen3At1Bit()
    {
        var bonsai = PublishedSizes.For("bonsai-8b").Single(f => f.Unit == "bytes");
        double computed = bonsai.Compute(LlamaConfig.Preset("bonsai-8b"));
        Assert.Equal(1_151_820_864, bonsai.Published);
        Assert.InRange(computed / bonsai.Published, 0.998, 1.002);
    }

    [Fact]
    public void UnknownArchitectureNamesTheSupportedOnes()
    {
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.Parse(
            """{"architectures": ["GemmaForCausalLM"], "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 300}""", "x/config.json"));
        Assert.Contains("x/config.json", e.Message);
        Assert.Contains("'GemmaForCausalLM' is not supported", e.Message);
        foreach (var f in ModelFamilies.All) Assert.Contains(f.HfArchitectures[0], e.Message);
    }

    [Theory]
    [InlineData("Qwen3ForCausalLM", "head_dim")]
    [InlineData("MixtralForCausalLM", "num_local_experts")]
    public void MissingFamilyFieldIsNamed(string architecture, string field)
    {
        var e = Assert.Throws<InvalidDataException>(() => LlamaConfig.Parse(
            $$"""{"architectures": ["{{architecture}}"], "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 300, "num_experts_per_tok": 2}""", "x/config.json"));
        Assert.Contains($"missing required field '{field}'", e.Message);
    }

    [Fact]
    public void RopeScalingIsRefusedWhereTheFamilyHasNone()
    {
        var config = LlamaConfig.Preset("qwen3-8b") with { RopeScaling = new RopeScaling { RopeType = "llama3", Factor = 8 } };
        var e = Assert.Throws<InvalidDataException>(() => config.Validate("q.json"));
        Assert.Contains("qwen3", e.Message);
    }
}
