// One harness over several engines: the fixture's scores agree across the workbench, llama.cpp and ONNX Runtime, KL works
// across engines, llama.cpp's quantizer writes files that load, and files an engine cannot load are named, not crashed on.
using System.Text.Json;
using Compression.Checkpoints.Gguf;
using Compression.Engines.LlamaCpp;
using Compression.Experiments;
using Compression.Reporting;
using Compression.Tests.Experiments;

namespace Compression.Tests.Engines;

public class EngineHarnessTests
{
    private static string WriteSpec(string dir, string output)
    {
        string spec = $$"""
        {
          "name": "engines",
          "model": { "path": {{JsonSerializer.Serialize(TestPaths.TinyLlama)}} },
          "engines": ["torchsharp", "llama.cpp", "onnxruntime"],
          "formats": ["q8_0"],
          "tasks": {
            "perplexity": { "file": "text.txt", "context": 24, "maxTokens": 60 },
            "kl": { "file": "text.txt", "context": 24, "maxTokens": 60, "baselineEngine": "torchsharp" },
            "choice": { "files": ["a.jsonl"] }
          },
          "output": {{JsonSerializer.Serialize(output)}}
        }
        """;
        string path = Path.Combine(dir, "engines.json");
        File.WriteAllText(path, spec);
        return path;
    }

    [Fact]
    public void Perplexity_choice_and_kl_of_the_fixture_agree_across_engines()
    {
        string dir = ExperimentInputs.Create();
        string output = Path.Combine(dir, "results");
        var outcome = ExperimentInputs.Run(WriteSpec(dir, output), dir);
        var records = outcome.Records;
        ResultRecord One(string engine, string format, string task) =>
            records.Single(r => r.Engine == engine && r.Format == format && r.Task.Name == task);
        double Metric(string engine, string format, string task, string metric) => One(engine, format, task).Metrics[metric].Value;

        // Float32 baselines: llama.cpp (F32 KV cache, no flash attention) and ONNX Runtime (float32 graph) run the same
        // arithmetic to float rounding, so perplexity agrees to 1e-4 relative and the KL to the workbench's is ~0.
        double ppl = Metric("torchsharp", "f32", "perplexity", MetricNames.Perplexity);
        foreach (string engine in new[] { "llama.cpp", "onnxruntime" })
        {
            double other = Metric(engine, "f32", "perplexity", MetricNames.Perplexity);
            Assert.True(Math.Abs(other / ppl - 1) < 1e-4, $"{engine} f32 perplexity {other} vs {ppl}");
            double kl = Metric(engine, "f32", "kl-divergence", MetricNames.KlMean);
            Assert.True(kl < 1e-6, $"{engine} f32 KL to the workbench {kl:G3}");
            Assert.Equal(Metric("torchsharp", "f32", "a", MetricNames.Accuracy), Metric(engine, "f32", "a", MetricNames.Accuracy));
        }
        // Q8_0: every engine runs the same blocks; llama.cpp also quantizes activations to Q8_0 blocks, so its numbers
        // move by a little more than float rounding (stated bound: 1% perplexity, KL within 5× of the workbench's; measured 2.4×).
        double q8 = Metric("torchsharp", "q8_0", "perplexity", MetricNames.Perplexity);
        double q8Cpp = Metric("llama.cpp", "q8_0", "perplexity", MetricNames.Perplexity);
        double q8Ort = Metric("onnxruntime", "q8_0", "perplexity", MetricNames.Perplexity);
        Assert.True(Math.Abs(q8Cpp / q8 - 1) < 1e-2, $"llama.cpp q8_0 perplexity {q8Cpp} vs {q8}");
        Assert.True(Math.Abs(q8Ort / q8 - 1) < 1e-3, $"onnxruntime q8_0 perplexity {q8Ort} vs {q8}");
        double klTs = Metric("torchsharp", "q8_0", "kl-divergence", MetricNames.KlMean);
        double klCpp = Metric("llama.cpp", "q8_0", "kl-divergence", MetricNames.KlMean);
        Assert.True(klTs > 0 && klCpp > 0 && klCpp < 5 * klTs, $"q8_0 KL: workbench {klTs:G3}, llama.cpp {klCpp:G3}");

        // Records carry their engine; the workbench's keep the file names they always had, the others get their own.
        var store = new ResultsStore(output);
        foreach (var r in records) Assert.True(store.Contains(r.Key));
        Assert.DoesNotContain("torchsharp", One("torchsharp", "q8_0", "perplexity").Key.FileName);
        Assert.Contains("llama.cpp", One("llama.cpp", "q8_0", "perplexity").Key.FileName);
        Assert.Equal("llama.cpp", One("llama.cpp", "q8_0", "perplexity").Settings.Extra!["engine"]);
        // The report shows the engines as rows of one table.
        var table = ResultTable.Build(store.LoadAll().Records).Single();
        Assert.Contains(table.Rows, r => r.Policy == "default @ llama.cpp");
        Assert.Contains(table.Rows, r => r.Policy == "baseline @ onnxruntime");
        Assert.Equal("baseline", table.Baseline!.Policy);
    }

    [Fact]
    public void A_workbench_key_keeps_its_committed_file_name()
    {
        // results/records/proxy-llama__q4_0__default__throughput__s1234-d1538266.json, committed before engines were keys.
        Assert.Equal("proxy-llama__q4_0__default__throughput__s1234-d1538266.json",
            new ResultKey("proxy-llama", "q4_0", "default", "throughput", 1234).FileName);
        var other = new ResultKey("proxy-llama", "q4_0", "default", "throughput", 1234, Engine: "llama.cpp");
        Assert.NotEqual(new ResultKey("proxy-llama", "q4_0", "default", "throughput", 1234).FileName, other.FileName);
        // The benchmark's convention (engine in the task name) keeps its names too.
        Assert.Equal(new ResultKey("m", "f16", "baseline", "throughput.llama.cpp", 1234).FileName,
            new ResultKey("m", "f16", "baseline", "throughput.llama.cpp", 1234, Engine: "llama.cpp").FileName);
    }

    [Fact]
    public void Llama_cpp_quantizer_writes_a_file_that_loads_and_stays_close_to_the_float_model()
    {
        string dir = TestPaths.NewTempDir("llamacpp-quantize");
        string output = Path.Combine(dir, "q4km.gguf");
        var result = LlamaCppQuantizer.Quantize(TestPaths.TinyLlamaFile("model-f32.gguf"), LlamaCppQuantizer.Get("Q4_K_M"), output);
        Assert.True(File.Exists(output));
        Assert.Single(Directory.GetFiles(dir)); // no temporaries left beside it
        // The fixture's rows are 128 long, not a multiple of 256: llama.cpp falls back per tensor, and the summary says to what.
        Assert.DoesNotContain("q4_K", result.Summary.TensorsPerType.Keys);
        Assert.InRange(result.Summary.BitsPerWeight, 4.0, 9.0);

        using var quantized = LlamaCppLanguageModel.Open(output, 64);
        using var reference = LlamaCppLanguageModel.Open(TestPaths.TinyLlamaFile("model-f32.gguf"), 64);
        int[] tokens = reference.Encode(ExperimentInputs.Text, addBos: true)[..48];
        var a = new Rows();
        var b = new Rows();
        quantized.ScoreTokens(tokens, 1, a);
        reference.ScoreTokens(tokens, 1, b);
        double kl = 0;
        for (int i = 0; i < a.All.Count; i++)
            for (int v = 0; v < a.All[i].Length; v++) kl += Math.Exp(b.All[i][v]) * (b.All[i][v] - a.All[i][v]);
        kl /= a.All.Count;
        Assert.InRange(kl, 1e-7, 0.2);
    }

    [Fact]
    public void Types_that_need_an_importance_matrix_are_refused_by_name()
    {
        string dir = TestPaths.NewTempDir("llamacpp-imatrix");
        // Without a matrix (LlamaCppImatrixTests makes them with one).
        var e = Assert.Throws<ArgumentException>(() =>
            LlamaCppQuantizer.Quantize(TestPaths.TinyLlamaFile("model-f32.gguf"), LlamaCppQuantizer.Get("IQ2_XS"), Path.Combine(dir, "x.gguf")));
        Assert.Contains("IQ2_XS needs an importance matrix", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Files_llama_cpp_cannot_load_name_the_engine_and_the_file()
    {
        string dir = TestPaths.NewTempDir("llamacpp-bad");
        string text = Path.Combine(dir, "notes.gguf");
        File.WriteAllText(text, "not a model");
        var e = Assert.Throws<InvalidDataException>(() => LlamaCppLanguageModel.Open(text));
        Assert.StartsWith("llama.cpp cannot load", e.Message);
        Assert.Contains(text, e.Message);

        string truncated = Path.Combine(dir, "truncated.gguf");
        var bytes = File.ReadAllBytes(TestPaths.TinyLlamaFile("model-q8_0.gguf"));
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        e = Assert.Throws<InvalidDataException>(() => LlamaCppLanguageModel.Open(truncated));
        Assert.StartsWith("llama.cpp cannot load", e.Message);
        Assert.Contains(truncated, e.Message);

        Assert.Throws<FileNotFoundException>(() => LlamaCppLanguageModel.Open(Path.Combine(dir, "missing.gguf")));
    }

    [Fact]
    public void Summary_sizes_a_file_in_types_the_workbench_does_not_compute_with()
    {
        string dir = TestPaths.NewTempDir("llamacpp-summary");
        string output = Path.Combine(dir, "q2k.gguf");
        LlamaCppQuantizer.Quantize(TestPaths.TinyLlamaFile("model-f32.gguf"), LlamaCppQuantizer.Get("Q2_K"), output, pure: true);
        var summary = GgufSummary.Read(output);
        // The tensor bytes plus header and padding are the file: the block layouts size every type exactly.
        long file = new FileInfo(output).Length;
        Assert.InRange(file - summary.TensorBytes, 1, 64 * 1024 + 32 * 64);
        Assert.NotNull(summary.Tokenizer);
    }

    private sealed class Rows : Compression.Evaluation.ITokenScoreSink
    {
        public readonly List<float[]> All = [];
        public void Accept(int position, int actualToken, ReadOnlySpan<float> logProbs) => All.Add(logProbs.ToArray());
    }
}
