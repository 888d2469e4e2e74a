// Evaluation is the same on every kernel path: the fixture's sweep (perplexity, KL, multiple choice; every packed format)
// run once per instruction-set level this machine has, each in its own `compress run` process with COMPRESS_ISA set,
// gives the same records — AVX2 and AVX-512 bit for bit, the scalar references within float summation order.
using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Compression.Tests.Training;

public sealed class EvaluationIsaTests : IDisposable
{
    /// <summary>
    /// Scalar loops add the block products in another order than the vector paths, so their records may differ in the last
    /// bits: relative 1e-5 on every numeric metric (perplexity, KL, log-likelihood means and their intervals). Accuracies,
    /// counts and everything else must be equal. AVX2 and AVX-512 accumulate in one order and must be equal bit for bit.
    /// </summary>
    private const double ScalarRelativeTolerance = 1e-5;

    private readonly string _dir = TestPaths.NewTempDir("isa-eval");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// COMPRESS_ISA values this CPU can run (the variable caps the kernels' level; see Compression.Kernels). A build whose
    /// kernels do not read it runs the default path three times, and the test degenerates to a determinism check.
    /// </summary>
    public static IEnumerable<string> SupportedLevels()
    {
        yield return "scalar";
        if (Avx2.IsSupported && Fma.IsSupported) yield return "avx2";
        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512F.VL.IsSupported && Avx512BW.VL.IsSupported && Fma.IsSupported) yield return "avx512";
    }

    [Fact]
    public void The_fixture_evaluates_the_same_on_every_kernel_path()
    {
        string spec = WriteSpec();
        var runs = SupportedLevels().ToDictionary(level => level, level => Run(spec, level));
        var reference = runs.ContainsKey("avx2") ? runs["avx2"] : runs["scalar"];
        Assert.Equal(3 + 7 * 4, reference.Count); // the f32 baseline: perplexity + 2 categories; 7 formats: those + KL
        foreach (var (level, records) in runs)
        {
            Assert.Equal(reference.Keys.Order(), records.Keys.Order());
            foreach (var (name, expected) in reference)
                Compare(expected, records[name], level == "scalar" ? ScalarRelativeTolerance : 0, $"{name} with COMPRESS_ISA={level}");
        }
    }

    private string WriteSpec()
    {
        // The fixture's tokenizer is Llama 3's; text from its README-style prose, multiple choice in the generic layout.
        string text = string.Concat(Enumerable.Repeat(
            "The apprentice counted the gears again. Twelve gears turned, and every spring held; the machine worked at last.\n\n" +
            "It's strange, she told her apprentice, how often the smallest piece decides whether the whole machine works.\n\n", 6));
        File.WriteAllText(Path.Combine(_dir, "text.txt"), text);
        string[] contexts = ["The machine has 12", "She told her", "The whole machine", "how often the smallest", "Twelve gears", "every spring"];
        for (int c = 0; c < 2; c++)
            File.WriteAllLines(Path.Combine(_dir, $"cat{c}.jsonl"), contexts.Select((ctx, i) => JsonSerializer.Serialize(new
            {
                id = $"c{c}-{i}", context = ctx, choices = new[] { " gears", " apprentice", " works", " springs" }, answer = (i + c) % 4,
            })));
        string spec = $$"""
        {
          "name": "fixture on one kernel path",
          "model": { "path": {{JsonSerializer.Serialize(TestPaths.TinyLlama)}} },
          "formats": ["f16", "bf16", "int8", "q8_0", "int4", "q4_0", "q1_0"],
          "policies": ["pure"],
          "tasks": {
            "perplexity": { "file": {{JsonSerializer.Serialize(Path.Combine(_dir, "text.txt"))}}, "context": 32, "maxTokens": 160, "documentSeparator": "\n\n" },
            "kl": { "file": {{JsonSerializer.Serialize(Path.Combine(_dir, "text.txt"))}}, "context": 32, "maxTokens": 128 },
            "choice": { "files": [{{JsonSerializer.Serialize(Path.Combine(_dir, "cat*.jsonl"))}}], "fewShot": 0 }
          },
          "seeds": [5]
        }
        """;
        string path = Path.Combine(_dir, "spec.json");
        File.WriteAllText(path, spec);
        return path;
    }

    // Runs the spec in a fresh process whose kernels are capped at `level`; returns its records by file name.
    private Dictionary<string, JsonObject> Run(string spec, string level)
    {
        string output = Path.Combine(_dir, level);
        // The spec's output ("results", the default) is per process: resolved against its working directory.
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "compress.dll"), "run", spec])
        {
            WorkingDirectory = Directory.CreateDirectory(output).FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["COMPRESS_ISA"] = level;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"compress run with COMPRESS_ISA={level} exited {process.ExitCode}: {stderr}\n{stdout.Result}");
        string records = Path.Combine(output, "results", "records");
        return Directory.GetFiles(records, "*.json").ToDictionary(Path.GetFileName, f => JsonNode.Parse(File.ReadAllText(f))!.AsObject())!;
    }

    private static void Compare(JsonObject expected, JsonObject actual, double tolerance, string what)
    {
        Assert.Equal(expected["settings"]!.ToJsonString(), actual["settings"]!.ToJsonString());
        Assert.Equal(expected["size"]?.ToJsonString(), actual["size"]?.ToJsonString());
        var e = expected["metrics"]!.AsObject();
        var a = actual["metrics"]!.AsObject();
        Assert.Equal(e.Select(m => m.Key).Order(), a.Select(m => m.Key).Order());
        foreach (var (metric, value) in e)
        foreach (var (field, number) in value!.AsObject())
        {
            double x = number!.GetValue<double>(), y = a[metric]![field]!.GetValue<double>();
            bool exact = tolerance == 0 || metric is "acc" or "acc_norm" or "documents" or "tokens_scored";
            Assert.True(exact ? x.Equals(y) : Math.Abs(x - y) <= tolerance * Math.Max(Math.Abs(x), 1e-12),
                $"{what}: {metric}.{field} = {y:R}, {(exact ? "expected exactly" : $"expected within {tolerance:g} of")} {x:R}");
        }
    }
}
