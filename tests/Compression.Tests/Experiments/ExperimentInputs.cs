// ExperimentInputs: tiny text and multiple-choice files, and the fixture model, for the experiment tests.
using System.Text.Json;
using Compression.Experiments;
using Compression.Inference;

namespace Compression.Tests.Experiments;

internal static class ExperimentInputs
{
    public const string Text =
        "It's strange, she told her apprentice, how often the smallest piece decides whether the whole machine works: 12 gears, 144 springs.\n" +
        "The apprentice counted the gears again. Twelve gears turned, and every spring held; the machine worked at last.\n";

    /// <summary>A directory holding text.txt and two multiple-choice files (generic layout), a.jsonl and b.jsonl.</summary>
    public static string Create()
    {
        string dir = TestPaths.NewTempDir("experiments");
        File.WriteAllText(Path.Combine(dir, "text.txt"), Text + Text);
        File.WriteAllLines(Path.Combine(dir, "a.jsonl"),
        [
            """{"id": "a1", "context": "The machine has 12", "choices": [" gears", " apples"], "answer": 0}""",
            """{"id": "a2", "context": "She told her", "choices": [" apprentice", " window", " river"], "answer": 0}""",
            """{"id": "a3", "context": "144", "choices": [" springs", " stones"], "answer": 0}""",
        ]);
        File.WriteAllLines(Path.Combine(dir, "b.jsonl"),
        [
            """{"id": "b1", "context": "The whole machine", "choices": [" works", " sleeps"], "answer": 0}""",
            """{"id": "b2", "context": "how often the smallest", "choices": [" piece", " cloud"], "answer": 0}""",
        ]);
        return dir;
    }

    public static ModelSession OpenFixture() => ModelSession.Open(TestPaths.TinyLlama);

    /// <summary>A small sweep spec over the fixture: formats × perplexity + choice + throughput, tiny sizes.</summary>
    public static string WriteSweepSpec(string dir, string output, bool tensorErrors = true)
    {
        string spec = $$"""
        {
          // comments are allowed
          "name": "fixture sweep",
          "model": { "path": {{JsonSerializer.Serialize(TestPaths.TinyLlama)}} },
          "formats": ["q8_0", "q4_0"],
          "tasks": {
            "perplexity": { "file": "text.txt", "context": 24, "maxTokens": 60 },
            "choice": { "files": ["*.jsonl"], "fewShot": 1 },
            "throughput": { "prefill": 8, "decode": 4, "repetitions": 1, "warmup": 0 }
          },
          "seeds": [7],
          "output": {{JsonSerializer.Serialize(output)}},
          "sizeTable": ["llama-3.1-8b"],
          "tensorErrors": {{(tensorErrors ? "true" : "false")}},
        }
        """;
        string path = Path.Combine(dir, "sweep.json");
        File.WriteAllText(path, spec);
        return path;
    }

    public static SweepOutcome Run(string specPath, string dir, ISweepProgress? progress = null, CancellationToken cancel = default) =>
        new SweepRunner(ExperimentSpecLoader.Load(specPath, dir), specPath, progress: progress).Run(cancel);
}
