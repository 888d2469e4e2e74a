// The --engine options end to end, as a child process: quantize through llama.cpp, evaluate and print logits of the file,
// and one-line errors naming the engine and the file for what an engine cannot load.
using System.Text.Json;
using Compression.Tests.Robustness;

namespace Compression.Tests.Engines;

public sealed class EngineCliTests
{
    [Fact]
    public void Quantize_with_llama_cpp_then_logits_and_eval_on_the_file()
    {
        string dir = TestPaths.NewTempDir("engine-cli");
        string gguf = Path.Combine(dir, "q4km.gguf");
        var q = RobustnessFiles.RunCli(["quantize", "--engine", "llama.cpp", "-m", TestPaths.TinyLlama, "-f", "Q4_K_M", "-o", gguf]);
        Assert.True(q.Exit == 0, q.Err);
        Assert.Contains("bits/weight", q.Out);

        var logits = RobustnessFiles.RunCli(["logits", "--engine", "llama.cpp", "-m", gguf, "--tokens", "1,2,3"]);
        Assert.True(logits.Exit == 0, logits.Err);
        using var json = JsonDocument.Parse(logits.Out);
        Assert.Equal(3, json.RootElement.GetArrayLength());

        File.WriteAllText(Path.Combine(dir, "text.txt"), Experiments.ExperimentInputs.Text);
        var eval = RobustnessFiles.RunCli(["eval", "--engine", "llama.cpp", "-m", gguf, "--perplexity", Path.Combine(dir, "text.txt"),
            "--context", "24", "--results", Path.Combine(dir, "results")]);
        Assert.True(eval.Exit == 0, eval.Err);
        var record = Directory.GetFiles(Path.Combine(dir, "results", "records")).Single();
        Assert.Contains("__llama.cpp__perplexity__", Path.GetFileName(record));
    }

    [Fact]
    public void What_an_engine_cannot_load_is_one_line_naming_the_engine_and_the_file()
    {
        string dir = TestPaths.NewTempDir("engine-cli-bad");
        string bad = Path.Combine(dir, "bad.gguf");
        File.WriteAllText(bad, "not a model at all");
        var r = RobustnessFiles.RunCli(["logits", "--engine", "llama.cpp", "-m", bad, "--tokens", "1"]);
        Assert.Equal(1, r.Exit);
        Assert.Contains($"error: llama.cpp cannot load {bad}", r.Err);
        Assert.DoesNotContain("   at ", r.Err);

        r = RobustnessFiles.RunCli(["logits", "--engine", "onnxruntime", "-m", dir, "--tokens", "1"]);
        Assert.Equal(1, r.Exit);
        Assert.Contains("error: onnxruntime: ", r.Err);
        Assert.Contains("genai_config.json", r.Err);

        r = RobustnessFiles.RunCli(["quantize", "--engine", "llama.cpp", "-m", TestPaths.TinyLlama, "-f", "IQ1_S", "-o", Path.Combine(dir, "x.gguf")]);
        Assert.Equal(1, r.Exit);
        Assert.Contains("IQ1_S needs an importance matrix", r.Err);

        r = RobustnessFiles.RunCli(["eval", "--engine", "warp-drive", "-m", TestPaths.TinyLlama, "--perplexity", bad]);
        Assert.Contains("unknown engine 'warp-drive'", r.Err);
    }
}
