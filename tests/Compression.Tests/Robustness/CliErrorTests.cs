// CliErrorTests: the command line's top level, run as a child process — one unwrapped line per error, the stack only
// with --verbose or COMPRESS_VERBOSE=1, exit 1 for errors, 2 for usage, and each option's range named.
using Compression.Inference;

namespace Compression.Tests.Robustness;

public sealed class CliErrorTests
{
    private static void OneLineError((int Exit, string Out, string Err) r, int exit, string contains)
    {
        Assert.True(r.Exit == exit, $"exit {r.Exit}, expected {exit}; stderr: {r.Err}");
        // A progress display may precede the error on standard error; the error itself is whole lines starting "error: ".
        var errors = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(errors);
        Assert.Contains(errors, l => l.Contains(contains));
        Assert.DoesNotContain("   at ", r.Err); // no stack trace
        if (exit == 1) Assert.Single(errors);
    }

    [Fact]
    public void Bad_input_is_one_line_and_exit_1_and_a_long_path_is_not_wrapped()
    {
        string deep = Path.Combine(TestPaths.NewTempDir("a-rather-long-folder-name-so-the-line-passes-eighty-columns"), "missing-checkpoint-folder");
        var r = RobustnessFiles.RunCli(["inspect", deep]);
        OneLineError(r, 1, deep);
        Assert.True(r.Err.Split('\n').Single(l => l.StartsWith("error: ")).Length > 80);

        OneLineError(RobustnessFiles.RunCli(["inspect", "/dev/null"]), 1, "/dev/null: is empty");
        OneLineError(RobustnessFiles.RunCli(["generate", "-m", TestPaths.TinyLlama, "-p", "hi", "--device", "cuda"]), 1, "--device cuda");
        OneLineError(RobustnessFiles.RunCli(["quantize", "-m", TestPaths.TinyLlama, "-f", "q4_0", "-o", TestPaths.NewTempDir("o"), "--tensor-type", "[=q4_0"]), 1, "--tensor-type '[=q4_0'");
    }

    [Fact]
    public void Out_of_range_options_are_usage_errors_naming_the_option()
    {
        string m = TestPaths.TinyLlama;
        OneLineError(RobustnessFiles.RunCli(["generate", "-m", m, "-p", "hi", "--max-tokens", "-1"]), 2, "--max-tokens -1");
        OneLineError(RobustnessFiles.RunCli(["generate", "-m", m, "-p", "hi", "--temperature", "-1"]), 2, "--temperature -1");
        OneLineError(RobustnessFiles.RunCli(["generate", "-m", m, "-p", "hi", "--temperature", "NaN"]), 2, "--temperature NaN");
        OneLineError(RobustnessFiles.RunCli(["generate", "-m", m, "-p", "hi", "--top-p", "2"]), 2, "--top-p 2");
        foreach (var size in new[] { "0", "-5MB", "abc", "1e30GB" })
            OneLineError(RobustnessFiles.RunCli(["synth", "--config", TestPaths.TinyLlamaFile("config.json"), "--out", TestPaths.NewTempDir("s"), "--shard-size", size]), 2, "--shard-size");
        OneLineError(RobustnessFiles.RunCli(["no-such-command"]), 2, "no-such-command");
    }

    [Fact]
    public void Verbose_prints_the_stack_and_the_environment_variable_does_too()
    {
        var quiet = RobustnessFiles.RunCli(["inspect", "/nonexistent/model"]);
        Assert.DoesNotContain(" at ", quiet.Err);
        var verbose = RobustnessFiles.RunCli(["inspect", "/nonexistent/model", "--verbose"]);
        Assert.Equal(1, verbose.Exit);
        Assert.Contains(" at Compression.", verbose.Err);
        var env = RobustnessFiles.RunCli(["inspect", "/nonexistent/model"], new Dictionary<string, string> { ["COMPRESS_VERBOSE"] = "1" });
        Assert.Contains(" at Compression.", env.Err);
    }

    [Fact]
    public void A_huge_max_tokens_generates_instead_of_overflowing()
    {
        using var session = ModelSession.Open(TestPaths.TinyLlama);
        int produced = 0;
        var stats = TextGenerator.Generate(session.Model, session.RequireTokenizer().Encode("Once upon a time"), int.MaxValue,
            new SamplingOptions(), _ => ++produced < 3);
        Assert.Equal(3, stats.GeneratedTokens);
        Assert.Throws<ArgumentException>(() => TextGenerator.Generate(session.Model, [1, 2], -1, new SamplingOptions(), _ => true));
    }

    [Fact]
    public void Sampling_options_are_validated_in_the_library_too()
    {
        foreach (var (t, p) in new[] { (-1.0, 1.0), (double.NaN, 1.0), (double.PositiveInfinity, 1.0), (1.0, 2.0), (1.0, 0.0), (1.0, -1.0), (1.0, double.NaN) })
            Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { Temperature = t, TopP = p }));
        Assert.Equal(2, new Sampler(new SamplingOptions { Temperature = 0 }).Next([0f, 1f, 5f, 2f]));
    }
}
