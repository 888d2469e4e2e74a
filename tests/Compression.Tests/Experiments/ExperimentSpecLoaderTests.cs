// ExperimentSpecLoaderTests: specs parse with defaults and resolved paths; malformed ones name the file and the field.
using Compression.Experiments;

namespace Compression.Tests.Experiments;

public sealed class ExperimentSpecLoaderTests
{
    private static string Write(string json)
    {
        string path = Path.Combine(TestPaths.NewTempDir("spec"), "bad-spec.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static InvalidDataException Error(string json)
    {
        string path = Write(json);
        var e = Assert.Throws<InvalidDataException>(() => ExperimentSpecLoader.Load(path));
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void Valid_spec_gets_defaults_and_absolute_paths()
    {
        var spec = ExperimentSpecLoader.Parse("""
            { "model": { "preset": "proxy" }, "formats": ["Q4_0"],
              "tasks": { "perplexity": { "file": "corpus/test.txt" }, "choice": { "files": ["suite/*.jsonl"] } } }
            """, "x.json", "/data");
        Assert.Equal("/data/corpus/test.txt", spec.Tasks!.Perplexity!.File);
        Assert.Equal(512, spec.Tasks.Perplexity.Context);
        Assert.Equal(["/data/suite/*.jsonl"], spec.Tasks.Choice!.Files);
        Assert.Equal("/data/results", spec.Output);
        Assert.Equal([1234], SweepPlan.Seeds(spec));
        Assert.Equal(["default"], SweepPlan.Policies(spec));
        var groups = SweepPlan.Expand(spec, "m", "f32", ["/data/suite/x.jsonl"]);
        Assert.Equal(["f32/baseline", "q4_0/default"], groups.Select(g => $"{g.Format}/{g.Policy}"));
    }

    [Theory]
    [InlineData("""{ "model": { "path": "m" }, "tasks": { "perplexity": { "file": "t", "contxt": 5 } } }""", "contxt")]
    [InlineData("""{ "model": { "path": "m" }, "tasks": { "perplexity": { "file": "t", "context": "long" } } }""", "tasks.perplexity.context")]
    [InlineData("""{ "model": { "path": "m" }, "formats": ["q8_0", "q3_x"], "tasks": { "throughput": {} } }""", "formats[1]")]
    [InlineData("""{ "model": { "path": "m" }, "policies": ["strict"], "tasks": { "throughput": {} } }""", "policies[0]")]
    [InlineData("""{ "tasks": { "throughput": {} } }""", "model")]
    [InlineData("""{ "model": { "path": "m", "preset": "proxy" }, "tasks": { "throughput": {} } }""", "model")]
    [InlineData("""{ "model": { "path": "m" }, "tasks": { "perplexity": { "file": "t", "context": 1 } } }""", "tasks.perplexity.context")]
    [InlineData("""{ "model": { "path": "m" }, "tasks": { "kl": { "file": "t" } } }""", "tasks.kl")]
    [InlineData("""{ "model": { "path": "m" }, "tasks": { "choice": { "files": [] } } }""", "tasks.choice.files")]
    [InlineData("""{ "model": { "path": "m" }, "tasks": { "throughput": { "decode": 0 } } }""", "tasks.throughput.decode")]
    [InlineData("""{ "sizeTable": ["llama-9"] }""", "sizeTable[0]")]
    [InlineData("""{ "name": "nothing" }""", "tasks")]
    [InlineData("""{ "model": { "path": "m" }, "seeds": [], "tasks": { "throughput": {} } }""", "seeds")]
    public void Malformed_spec_names_file_and_field(string json, string field)
    {
        var e = Error(json);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Invalid_json_names_file_and_line()
    {
        var e = Error("{\n  \"name\": \"x\",\n  \"formats\": [\"q8_0\" \"q4_0\"]\n}");
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Missing_task_file_and_unmatched_glob_are_reported_at_run_time_with_the_field()
    {
        string dir = TestPaths.NewTempDir("spec");
        string path = Path.Combine(dir, "s.json");
        File.WriteAllText(path, $$"""
            { "model": { "path": {{System.Text.Json.JsonSerializer.Serialize(TestPaths.TinyLlama)}} },
              "tasks": { "choice": { "files": ["nothing-*.jsonl"] } }, "output": "out" }
            """);
        var e = Assert.Throws<InvalidDataException>(() => new SweepRunner(ExperimentSpecLoader.Load(path, dir), path).Run());
        Assert.Contains(path, e.Message);
        Assert.Contains("tasks.choice.files[0]", e.Message);

        File.WriteAllText(path, """{ "model": { "preset": "no-such-preset" }, "tasks": { "throughput": {} }, "output": "out" }""");
        e = Assert.Throws<InvalidDataException>(() => new SweepRunner(ExperimentSpecLoader.Load(path, dir), path).Run());
        Assert.Contains("model.preset", e.Message);
    }

    [Fact]
    public void Shipped_specs_are_valid()
    {
        string experiments = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "experiments"));
        var specs = Directory.GetFiles(experiments, "*.json");
        Assert.NotEmpty(specs);
        foreach (string spec in specs) ExperimentSpecLoader.Load(spec);
    }
}
