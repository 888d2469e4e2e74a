// MethodSpecTests: the "methods" and "calibration" keys of a spec — validation errors, expansion into keyed groups, and
// records of a calibrated method filed apart from round-to-nearest ones.
using Compression.Experiments;
using Compression.Reporting;

namespace Compression.Tests.Experiments;

public sealed class MethodSpecTests
{
    private const string Model = "\"model\": { \"preset\": \"proxy\" }, \"tasks\": { \"perplexity\": { \"file\": \"t.txt\" } }";

    private static string Error(string json) =>
        Assert.Throws<InvalidDataException>(() => ExperimentSpecLoader.Parse(json, "m.json", "/data")).Message;

    [Fact]
    public void Methods_expand_beside_formats_with_the_method_in_every_key()
    {
        var spec = ExperimentSpecLoader.Parse($$"""
            { {{Model}}, "formats": ["q4_0", "int4"], "methods": ["rtn", "GPTQ"],
              "calibration": { "file": "corpus/train.txt", "sequences": 8, "length": 64, "seed": 3 } }
            """, "m.json", "/data");
        Assert.Equal("/data/corpus/train.txt", spec.Calibration!.File);
        var groups = SweepPlan.Expand(spec, "m", "f32", []);
        Assert.Equal(["f32/baseline/rtn", "q4_0/default/rtn", "q4_0/default/gptq", "int4/default/rtn", "int4/default/gptq"],
            groups.Select(g => $"{g.Format}/{g.Policy}/{g.Method}"));
        Assert.All(groups, g => Assert.All(g.Cells, c => Assert.Equal(g.Method, c.Key.Method)));
        Assert.NotEqual(groups[1].Cells[0].Key.FileName, groups[2].Cells[0].Key.FileName);
    }

    [Fact]
    public void Round_to_nearest_keys_keep_the_file_names_records_had_before_methods()
    {
        var key = new ResultKey("Llama 3.1 8B", "q4_0", "default", "arc/easy", 7);
        Assert.Equal(ResultKey.Rtn, key.Method);
        Assert.StartsWith("llama_3.1_8b__q4_0__default__arc_easy__s7-", key.FileName);
        Assert.StartsWith("llama_3.1_8b__q4_0__default__gptq__arc_easy__s7-", (key with { Method = "gptq" }).FileName);
    }

    [Fact]
    public void Bad_method_settings_are_one_line_errors_naming_the_field()
    {
        Assert.Contains("m.json: methods[1]: unknown method 'gtpq'; known: rtn, gptq, awq, imatrix",
            Error($$"""{ {{Model}}, "formats": ["q4_0"], "methods": ["rtn", "gtpq"] }"""));
        Assert.Contains("m.json: calibration: required by method 'gptq'",
            Error($$"""{ {{Model}}, "formats": ["q4_0"], "methods": ["gptq"] }"""));
        Assert.Contains("m.json: methods[0]: method 'gptq' cannot produce format 'int8'",
            Error($$"""{ {{Model}}, "formats": ["int8"], "methods": ["gptq"], "calibration": { "file": "c.txt" } }"""));
        Assert.Contains("m.json: calibration.length: must be at least 2, got 1",
            Error($$"""{ {{Model}}, "formats": ["q4_0"], "methods": ["gptq"], "calibration": { "file": "c.txt", "length": 1 } }"""));
        Assert.Contains("m.json: formats[0]: unknown format 'q3_x'",
            Error($$"""{ {{Model}}, "formats": ["q3_x"], "methods": ["gptq"], "calibration": { "file": "c.txt" } }"""));
    }
}
