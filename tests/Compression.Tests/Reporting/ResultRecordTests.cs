// ResultRecordTests: result JSON round-trips exactly, is camelCase, and bad files are named in the error.
using System.Text.Json.Nodes;
using Compression.Reporting;

namespace Compression.Tests.Reporting;

public class ResultRecordTests
{
    static ResultRecord Full() => ResultRecord.Create(
        new ModelInfo("Llama-3.1-8B", "/models/llama", 8_030_261_248),
        "q4_0", "pure", new TaskInfo("arc_easy", "2"),
        new Dictionary<string, MetricValue>
        {
            [MetricNames.Accuracy] = new(0.7123, 0.6812, 0.7402, 0.0149),
            [MetricNames.AccuracyNorm] = new(0.7011),
            [MetricNames.Perplexity] = new(double.PositiveInfinity),
        },
        new RunSettings { Seed = 1234, ContextLength = 2048, FewShot = 5, Limit = 500, Extra = new Dictionary<string, string> { ["stride"] = "512" } },
        new SizeInfo(4_661_000_000, 4.6436));

    [Fact]
    public void Json_RoundTripsEveryField()
    {
        var r = Full();
        string json = ResultJson.Serialize(r);
        var back = ResultJson.Deserialize(json, "mem.json");

        Assert.Equal(json, ResultJson.Serialize(back));
        Assert.Equal(r.Id, back.Id);
        Assert.Equal(r.Model, back.Model);
        Assert.Equal(r.Task, back.Task);
        Assert.Equal(r.Size, back.Size);
        Assert.Equal(r.TimeUtc, back.TimeUtc);
        Assert.Equal(r.Key, back.Key);
        Assert.Equal(r.Metrics.OrderBy(m => m.Key), back.Metrics.OrderBy(m => m.Key));
        Assert.True(double.IsPositiveInfinity(back.Metrics[MetricNames.Perplexity].Value));
        Assert.Equal("512", back.Settings.Extra!["stride"]);
        Assert.Equal(r.Machine.Simd, back.Machine.Simd);
        Assert.Equal(r.Machine with { Simd = back.Machine.Simd }, back.Machine);
    }

    [Fact]
    public void Json_IsCamelCase_AndOmitsNulls()
    {
        var node = JsonNode.Parse(ResultJson.Serialize(Full()))!.AsObject();
        Assert.Contains("toolVersion", node.Select(p => p.Key));
        Assert.Contains("timeUtc", node.Select(p => p.Key));
        Assert.Equal(2048, (int)node["settings"]!["contextLength"]!);
        Assert.Equal(4.6436, (double)node["size"]!["bitsPerWeight"]!);
        Assert.Equal(0.6812, (double)node["metrics"]!["acc"]!["lower"]!);
        Assert.Null(node["metrics"]!["acc_norm"]!["lower"]);   // absent, not null
        Assert.False(node["metrics"]!["acc_norm"]!.AsObject().ContainsKey("lower"));
        Assert.Equal("Infinity", (string)node["metrics"]!["perplexity"]!["value"]!);
    }

    [Fact]
    public void Deserialize_MissingRequiredField_NamesTheFile()
    {
        var node = JsonNode.Parse(ResultJson.Serialize(Full()))!.AsObject();
        node.Remove("format");
        var e = Assert.Throws<InvalidDataException>(() => ResultJson.Deserialize(node.ToJsonString(), "results/records/x.json"));
        Assert.Contains("results/records/x.json", e.Message);
        Assert.Contains("format", e.Message);
    }

    [Fact]
    public void Deserialize_NullWhereValueRequired_NamesTheFile()
    {
        var node = JsonNode.Parse(ResultJson.Serialize(Full()))!.AsObject();
        node["policy"] = null;
        var e = Assert.Throws<InvalidDataException>(() => ResultJson.Deserialize(node.ToJsonString(), "y.json"));
        Assert.Contains("y.json", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{ \"id\": ")]
    [InlineData("null")]
    [InlineData("[1,2]")]
    public void Deserialize_Garbage_GivesInvalidData(string text)
    {
        var e = Assert.Throws<InvalidDataException>(() => ResultJson.Deserialize(text, "bad.json"));
        Assert.StartsWith("bad.json", e.Message);
    }

    [Fact]
    public void Create_StampsToolMachineAndTime()
    {
        var before = DateTimeOffset.UtcNow;
        var r = Full();
        Assert.Equal(32, r.Id.Length);
        Assert.False(string.IsNullOrWhiteSpace(r.ToolVersion));
        Assert.DoesNotContain('+', r.ToolVersion);
        Assert.InRange(r.TimeUtc, before, DateTimeOffset.UtcNow);
        Assert.Equal(TimeSpan.Zero, r.TimeUtc.Offset);
        Assert.Equal(Environment.ProcessorCount, r.Machine.Cores);
        Assert.True(r.Machine.TotalMemoryBytes > 0);
        Assert.False(string.IsNullOrWhiteSpace(r.Machine.CpuModel));
        Assert.Equal(new ResultKey("Llama-3.1-8B", "q4_0", "pure", "arc_easy", 1234), r.Key);
    }

    [Fact]
    public void GitCommit_IsGitsAnswerOrTheBuildStamp()
    {
        string? fromGit = BuildInfo.RunGit(AppContext.BaseDirectory);
        string? expected = fromGit ?? BuildInfo.CommitFromAssembly();
        Assert.Equal(expected, BuildInfo.GitCommit);
        if (expected is not null) Assert.Matches("^[0-9a-f]{40}([0-9a-f]{24})?$", expected);
    }

    [Fact]
    public void RunGit_OutsideARepoOrWithoutTheFolder_GivesNullNotAnException()
    {
        Assert.Null(BuildInfo.RunGit(TestPaths.NewTempDir("nogit")));
        Assert.Null(BuildInfo.RunGit("/nonexistent/folder/for/git"));
    }

    [Fact]
    public void MachineInfo_ParsesProcFiles()
    {
        const string cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9B14\nflags\t\t: fpu sse avx2 fma f16c\n\n" +
                               "processor\t: 1\nmodel name\t: ignored\n";
        var (model, flags) = MachineInfo.ParseCpuInfo(cpuinfo);
        Assert.Equal("AMD EPYC 9B14", model);
        Assert.Contains("f16c", flags);
        Assert.DoesNotContain("avx512f", flags);
        Assert.Equal(24_684_096L * 1024, MachineInfo.ParseMemTotal("MemTotal:       24684096 kB\nMemFree:         1 kB\n"));
        Assert.Equal(0, MachineInfo.ParseMemTotal("MemFree: 5 kB\n"));
    }
}
