// An exported ONNX folder as the model: described from its graph, evaluated as it is by the sweep (the same scores as the
// sweep's own on-the-fly export), benchmarked through ONNX Runtime GenAI's generator and KV cache (greedy tokens equal the
// workbench's full-prefill argmax), and refused with one clear line when it is not a valid export or the engine is wrong.
using System.Text.Json;
using Compression.Checkpoints;
using Compression.Engines.OnnxRuntime;
using Compression.Evaluation.Throughput;
using Compression.Experiments;
using Compression.Export.Onnx;
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using Compression.Reporting;
using Compression.Tests.Experiments;
using Compression.Tests.Model;

namespace Compression.Tests.Engines;

public class OnnxModelFolderTests
{
    /// <summary>The fixture exported as a sweep exports it (accuracy_level 0), with rotary caches for 128 positions.</summary>
    private static string Export(string format, string? dir = null)
    {
        dir ??= Path.Combine(TestPaths.NewTempDir("ort-folder"), $"tiny-{format}");
        var policy = SweepEngines.OnnxPolicy(FormatRegistry.Get(format))!;
        using var input = CheckpointOpener.Open(TestPaths.TinyLlama);
        OnnxExporter.Write(input, s => policy.Choose(s), dir, new OnnxExportOptions { AccuracyLevel = 0, ContextLength = 128 });
        return dir;
    }

    [Fact]
    public void A_folder_is_described_from_its_graph_and_manifest()
    {
        using var session = ModelSession.Open(TestPaths.TinyLlama);
        string f32 = Export("f32");
        var folder = OnnxModelFolder.Open(f32);
        // Parameters counted from the graph's initializers equal the architecture's count; float32 weights read per
        // token equal what the workbench's own float32 model reads (every weight once, one embedding row).
        Assert.Equal(LlamaTensorLayout.ParameterCount(session.Config), folder.ParameterCount);
        Assert.Equal(DecodeTraffic.WeightBytesPerToken(session.Model), folder.WeightBytesPerToken);
        Assert.Equal("f32", folder.StoredFormat);
        Assert.Equal((2, 2, 32, 512, 128), (folder.Layers, folder.KeyValueHeads, folder.HeadSize, folder.VocabSize, folder.ContextLength));

        string int8 = Export("int8");
        folder = OnnxModelFolder.Open(int8);
        Assert.Equal(LlamaTensorLayout.ParameterCount(session.Config), folder.ParameterCount); // K·N per MatMulNBits
        Assert.Equal("int8", folder.StoredFormat);
        Assert.True(folder.WeightBytes < OnnxModelFolder.Open(f32).WeightBytes / 2, "int8 linears hold a byte per weight plus scales");
        // Without the manifest (a folder from another tool) the label comes from the graph.
        File.Delete(Path.Combine(int8, OnnxModelFolder.ManifestFileName));
        Assert.Equal("matmulnbits-8bit", OnnxModelFolder.Open(int8).StoredFormat);
    }

    private static string Spec(string dir, string model, string engine, string? format, bool throughput = false) =>
        WriteSpec(dir, $$"""
        {
          "model": { "path": {{JsonSerializer.Serialize(model)}} },
          "engines": [{{JsonSerializer.Serialize(engine)}}],
          "formats": {{(format is null ? "[]" : $"[\"{format}\"]")}},
          "baseline": {{(format is null ? "true" : "false")}},
          "tasks": {
            "perplexity": { "file": "text.txt", "context": 24, "maxTokens": 60 },
            "choice": { "files": ["a.jsonl"] }{{(throughput ? """, "throughput": { "prefill": 8, "decode": 4, "repetitions": 1, "warmup": 0 }""" : "")}}
          },
          "output": {{JsonSerializer.Serialize(Path.Combine(dir, $"results-{Guid.NewGuid():N}"))}}
        }
        """);

    private static string WriteSpec(string dir, string json)
    {
        string path = Path.Combine(dir, $"spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void A_folder_evaluates_exactly_as_the_sweeps_own_export_of_the_checkpoint()
    {
        string dir = ExperimentInputs.Create();
        // The in-harness path: the sweep exports the checkpoint to int8 itself and runs it on ONNX Runtime.
        var onTheFly = ExperimentInputs.Run(Spec(dir, TestPaths.TinyLlama, "onnxruntime", "int8"), dir).Records;
        // The same export written beforehand and given as the model: its baseline is the folder as it is.
        string folder = Export("int8", Path.Combine(dir, "tiny-int8"));
        var given = ExperimentInputs.Run(Spec(dir, folder, "onnxruntime", null), dir).Records;
        Assert.Equal(2, given.Count);
        foreach (var r in given)
        {
            Assert.Equal(("tiny-int8", "int8", EvaluatedModel.BaselinePolicy, "onnxruntime"), (r.Model.Name, r.Format, r.Policy, r.Engine));
            var twin = onTheFly.Single(x => x.Task.Name == r.Task.Name);
            // The same graph bytes on the same runtime: identical scores.
            foreach (var (metric, value) in twin.Metrics) Assert.Equal(value.Value, r.Metrics[metric].Value);
            // Sized from the files ONNX Runtime loads, as the sweep sizes its own exports (those hold longer rotary caches).
            Assert.Equal(ThroughputCell.OnnxFolderBytes(folder), r.Size!.Bytes);
        }
    }

    [Fact]
    public void Logits_of_a_folder_through_the_cli_match_the_workbench()
    {
        string folder = Export("f32");
        var r = Robustness.RobustnessFiles.RunCli(["logits", "--engine", "onnxruntime", "-m", folder, "--tokens", string.Join(",", ReferenceLogits.PromptTokens)]);
        Assert.True(r.Exit == 0, r.Err);
        using var json = JsonDocument.Parse(r.Out);
        using var session = ModelSession.Open(TestPaths.TinyLlama);
        var ours = session.Model.Logits(ReferenceLogits.PromptTokens);
        double max = 0;
        int row = 0;
        foreach (var line in json.RootElement.EnumerateArray())
        {
            int v = 0;
            foreach (var x in line.EnumerateArray()) max = Math.Max(max, Math.Abs(x.GetSingle() - ours[row, v++]));
            Assert.Equal(ours.GetLength(1), v);
            row++;
        }
        Assert.Equal(ReferenceLogits.PromptTokens.Length, row);
        Assert.True(max <= 1e-4, $"ONNX folder logits differ from the workbench's by {max:G3}");
    }

    /// <summary>The workbench's greedy continuation by full prefill each step (no cache), EOS masked as GenAI's min_length masks it.</summary>
    private static int[] FullPrefillGreedy(LlamaModel model, int[] prompt, int steps, int eos)
    {
        var ids = prompt.ToList();
        for (int s = 0; s < steps; s++)
        {
            var logits = model.Logits(ids.ToArray());
            int last = ids.Count - 1, best = -1;
            for (int v = 0; v < logits.GetLength(1); v++)
                if (v != eos && (best < 0 || logits[last, v] > logits[last, best])) best = v;
            ids.Add(best);
        }
        return ids.Skip(prompt.Length).ToArray();
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("q8_0")]
    public void GenAi_greedy_decode_through_its_kv_cache_equals_the_workbench_full_prefill_argmax(string format)
    {
        string folder = Export(format);
        using var session = ModelSession.Open(TestPaths.TinyLlama);
        // q8_0's MatMulNBits holds the workbench's own blocks: compare with the workbench's packed q8_0 model.
        using var quantized = format == "f32" ? null : ModelQuantizer.Apply(session.Model, SweepEngines.OnnxPolicy(FormatRegistry.Get(format))!);
        var model = quantized ?? session.Model;
        using var engine = OnnxRuntimeThroughputEngine.Open(folder, threads: 1);
        int eos = session.Config.EosTokenIds[0];
        foreach (var prompt in new[] { ReferenceLogits.PromptTokens, ThroughputBenchmark.Prompt(1234, 16, session.Config.VocabSize) })
        {
            var expected = FullPrefillGreedy(model, prompt, 8, eos);
            Assert.Equal(expected, engine.Greedy(prompt, 8));
        }
    }

    [Fact]
    public void Bench_through_genai_gives_positive_speeds_and_files_an_onnxruntime_record()
    {
        string folder = Export("f32");
        var options = new ThroughputOptions { PrefillTokens = 16, DecodeTokens = 8, Repetitions = 2, WarmupRuns = 1, ReadBandwidthBytesPerSecond = 10e9 };
        var record = ThroughputCell.RunOnnxRuntime(folder, options, threads: 1);
        Assert.Equal(("onnxruntime", "1", "throughput.onnxruntime", "f32"), (record.Engine, record.Settings.Extra!["threads"], record.Task.Name, record.Format));
        foreach (string m in new[] { MetricNames.PrefillTokensPerSecond, MetricNames.DecodeTokensPerSecond, MetricNames.PeakAnonymousBytes, MetricNames.RunPeakResidentBytes })
            Assert.True(record.Metrics[m].Value > 0, $"{m} = {record.Metrics[m].Value}");
        var decode = record.Metrics[MetricNames.DecodeTokensPerSecond];
        Assert.True(decode.Lower <= decode.Value && decode.Value <= decode.Upper);
        Assert.Equal(OnnxModelFolder.Open(folder).WeightBytesPerToken, record.Metrics[MetricNames.WeightBytesPerToken].Value);
        Assert.Equal(10e9 / record.Metrics[MetricNames.WeightBytesPerToken].Value, record.Metrics[MetricNames.RooflineTokensPerSecond].Value, 6);

        // More positions than the export holds: refused before running.
        var e = Assert.Throws<ArgumentException>(() => ThroughputCell.RunOnnxRuntime(folder, options with { PrefillTokens = 120 }, threads: 1));
        Assert.Contains("positions", e.Message);
    }

    [Fact]
    public void A_sweep_on_onnxruntime_measures_its_throughput()
    {
        string dir = ExperimentInputs.Create();
        var records = ExperimentInputs.Run(Spec(dir, TestPaths.TinyLlama, "onnxruntime", "q4_0", throughput: true), dir).Records;
        var speed = records.Single(r => r.Task.Name == ThroughputCell.TaskName);
        Assert.Equal(("q4_0", "onnxruntime"), (speed.Format, speed.Engine));
        Assert.True(speed.Metrics[MetricNames.DecodeTokensPerSecond].Value > 0);
    }

    [Fact]
    public void What_is_not_a_valid_export_is_one_line_naming_the_folder_and_the_part()
    {
        string folder = Export("f32");
        string bare = TestPaths.NewTempDir("ort-bare");
        File.Copy(Path.Combine(folder, "genai_config.json"), Path.Combine(bare, "genai_config.json"));
        var e = Assert.Throws<FileNotFoundException>(() => OnnxRuntimeLanguageModel.Open(bare));
        Assert.Equal($"onnxruntime: {bare}: not an ONNX model folder: model.onnx, tokenizer.json missing (expected a folder written by compress export --to onnx)", e.Message);

        string badTokenizer = Path.Combine(TestPaths.NewTempDir("ort-tok"), "m");
        CopyFolder(folder, badTokenizer);
        File.WriteAllText(Path.Combine(badTokenizer, "tokenizer.json"), "{ \"model\": 3 }");
        var t = Assert.Throws<InvalidDataException>(() => OnnxRuntimeLanguageModel.Open(badTokenizer));
        Assert.StartsWith($"onnxruntime: {badTokenizer}: cannot read its tokenizer.json", t.Message);

        string badConfig = Path.Combine(TestPaths.NewTempDir("ort-cfg"), "m");
        CopyFolder(folder, badConfig);
        File.WriteAllText(Path.Combine(badConfig, "genai_config.json"), "{ \"model\": { } }");
        var c = Assert.Throws<InvalidDataException>(() => OnnxRuntimeThroughputEngine.Open(badConfig, 1));
        Assert.StartsWith($"onnxruntime: {Path.Combine(badConfig, "genai_config.json")}: not a genai_config.json", c.Message);
    }

    [Fact]
    public void Engines_that_cannot_run_a_folder_say_to_use_onnxruntime()
    {
        string folder = Export("f32");
        var open = Assert.Throws<NotSupportedException>(() => CheckpointOpener.Open(folder));
        Assert.Contains("use --engine onnxruntime", open.Message);

        string dir = ExperimentInputs.Create();
        foreach (string engine in new[] { "torchsharp", "llama.cpp" })
        {
            var e = Assert.Throws<NotSupportedException>(() => ExperimentInputs.Run(Spec(dir, folder, engine, null), dir));
            Assert.Contains($"the {engine} engine cannot run it: use --engine onnxruntime", e.Message);
        }
        var f = Assert.Throws<ArgumentException>(() => ExperimentInputs.Run(Spec(dir, folder, "onnxruntime", "int4"), dir));
        Assert.Contains("evaluated as exported", f.Message);
        // An empty folder given to ONNX Runtime is taken for an export and named with what it lacks.
        string empty = TestPaths.NewTempDir("ort-empty");
        var m = Assert.Throws<FileNotFoundException>(() => ExperimentInputs.Run(Spec(dir, empty, "onnxruntime", null), dir));
        Assert.Contains($"{empty}: not an ONNX model folder: genai_config.json, model.onnx, tokenizer.json missing", m.Message);

        // Through the CLI: one line, exit 1, no stack trace.
        var r = Robustness.RobustnessFiles.RunCli(["eval", "-m", folder, "--perplexity", Path.Combine(dir, "text.txt")]);
        Assert.Equal(1, r.Exit);
        Assert.Contains("the torchsharp engine cannot run it: use --engine onnxruntime", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        r = Robustness.RobustnessFiles.RunCli(["bench", "-m", folder]);
        Assert.Equal(1, r.Exit);
        Assert.Contains("bench it with --engine onnxruntime", r.Err);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
