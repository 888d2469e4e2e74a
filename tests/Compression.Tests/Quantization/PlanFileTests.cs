// PlanFileTests: a plan written by compress plan becomes a spec policy ("plan:FILE") whose rules pick each tensor's format;
// bad plan files are one error naming the file.
using Compression.Experiments;
using Compression.Model;
using Compression.Quantization;
using Compression.Quantization.Planning;

namespace Compression.Tests.Quantization;

public class PlanFileTests
{
    [Fact]
    public void A_plan_policy_gives_planned_tensors_their_formats_and_the_rest_the_default()
    {
        string dir = Directory.CreateTempSubdirectory("plan-").FullName;
        try
        {
            string path = Path.Combine(dir, "plan-3.0bpw.json");
            new PlanFile(1000, 900, 3.0, 0.01, [@"^model\.layers\.0\.mlp\.down_proj\.weight$=q8_0", @"^model\.layers\.1\.=q1_0"]).Save(path);
            var policy = SweepPlan.Policy(PlanFile.PolicyPrefix + path, FormatRegistry.Get("q4_0"));
            Assert.Equal("plan-3.0bpw", policy.Label);
            var specs = LlamaTensorLayout.Expected(LlamaConfig.Preset("proxy")).ToDictionary(s => s.Name);
            Assert.Equal("q8_0", policy.Choose(specs["model.layers.0.mlp.down_proj.weight"]).Name);
            Assert.Equal("q1_0", policy.Choose(specs["model.layers.1.self_attn.q_proj.weight"]).Name);
            Assert.Equal("q4_0", policy.Choose(specs["model.layers.0.self_attn.q_proj.weight"]).Name);
            Assert.Equal(QuantizationPolicy.Default(FormatRegistry.Get("q4_0")).Choose(specs["model.embed_tokens.weight"]),
                policy.Choose(specs["model.embed_tokens.weight"]));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Bad_plan_files_are_errors_naming_the_file()
    {
        string dir = Directory.CreateTempSubdirectory("plan-").FullName;
        try
        {
            string missing = Path.Combine(dir, "none.json");
            Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => PlanFile.Load(missing)).Message);
            string empty = Path.Combine(dir, "empty.json");
            File.WriteAllText(empty, """{ "rules": [] }""");
            Assert.Contains("no rules", Assert.Throws<InvalidDataException>(() => PlanFile.Load(empty)).Message);
            string badFormat = Path.Combine(dir, "bad.json");
            File.WriteAllText(badFormat, """{ "rules": ["^x$=q9_9"] }""");
            Assert.Contains(badFormat, Assert.Throws<InvalidDataException>(() => PlanFile.Load(badFormat)).Message);
            string notJson = Path.Combine(dir, "text.json");
            File.WriteAllText(notJson, "not json");
            Assert.Contains(notJson, Assert.Throws<InvalidDataException>(() => PlanFile.Load(notJson)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
