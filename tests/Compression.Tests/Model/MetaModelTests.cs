// Llama 3.1 8B built on the meta device: its parameters, by name and shape, against the approved list.
using Compression.Model;

namespace Compression.Tests.Model;

public class MetaModelTests
{
    /// <summary>HF name of a module parameter ("layers.0.mlp.up_proj.weight" → "model.layers.0.mlp.up_proj.weight").</summary>
    private static string HfName(string parameter) => parameter == "lm_head.weight" ? parameter : "model." + parameter;

    [Fact]
    public void Llama31_8B_on_meta_has_the_approved_tensors_and_count()
    {
        using var model = LlamaModel.CreateOnMeta(LlamaConfig.Llama31_8B);
        var actual = model.named_parameters()
            .Select(p => $"{HfName(p.name)} [{string.Join(", ", p.parameter.shape)}]")
            .ToArray();
        var approved = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Model", "llama-3.1-8b.tensors.approved.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        Assert.Equal(approved.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
        Assert.Equal(291, actual.Length);
        Assert.Equal(8_030_261_248L, model.parameters().Sum(p => p.numel()));
        Assert.Equal("meta", model.LmHead.parameters().First().device.type.ToString().ToLowerInvariant());
    }

    [Fact]
    public void Tied_config_shares_the_embedding_as_lm_head()
    {
        using var model = LlamaModel.CreateOnMeta(LlamaConfig.Llama32_1B);
        Assert.True(LlamaConfig.Llama32_1B.TieWordEmbeddings);
        Assert.DoesNotContain(model.named_parameters(), p => p.name == "lm_head.weight");
        Assert.Equal(1_235_814_400L, model.parameters().Sum(p => p.numel()));
    }
}
