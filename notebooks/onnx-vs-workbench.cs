#:project ../src/Compression/Compression.csproj
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
// ONNX Runtime vs the workbench on the same weights: export a model (default: the trained proxy) in several formats
// with `compress export --to onnx`'s code, then score the same text with both engines — perplexity, the largest
// log-probability difference, and prefill time (one run each; on a shared machine, compare ratios within a run).
// Run: dotnet run notebooks/onnx-vs-workbench.cs [MODEL_DIR] [TEXT_FILE] [TOKENS]
using Compression.Checkpoints;
using Compression.Engines.OnnxRuntime;
using Compression.Evaluation;
using Compression.Export.Onnx;
using Compression.Inference;
using Compression.Quantization;

string modelDir = args.Length > 0 ? args[0] : "experiments/models/proxy-llama";
string textFile = args.Length > 1 ? args[1] : ".cache/proxy/corpus/test.txt";
int maxTokens = args.Length > 2 ? int.Parse(args[2]) : 512;
if (!Directory.Exists(modelDir) || !File.Exists(textFile))
{
    Console.WriteLine($"{modelDir} or {textFile} is missing — train the proxy first (`compress train`) or pass a model folder and a text file.");
    return;
}
string text = File.ReadAllText(textFile);
var f32 = new QuantizationPolicy { Format = FormatRegistry.F32, KeepFormat = FormatRegistry.F32, Label = "f32" };
var cases = new (string Name, QuantizationPolicy Policy, int Accuracy)[]
{
    ("f32", f32, 0),
    ("int4_g32", QuantizationPolicy.Default(FormatRegistry.Get("int4_g32")), 0),
    ("int4_g32", QuantizationPolicy.Default(FormatRegistry.Get("int4_g32")), 4),
    ("q4_0", QuantizationPolicy.Default(FormatRegistry.Get("q4_0")), 0),
    ("q4_0", QuantizationPolicy.Default(FormatRegistry.Get("q4_0")), 4),
    ("int8", QuantizationPolicy.Default(FormatRegistry.Get("int8")), 0),
    ("int8", QuantizationPolicy.Default(FormatRegistry.Get("int8")), 4),
};
Console.WriteLine($"{Path.GetFileName(modelDir.TrimEnd('/'))}, first {maxTokens} tokens of {textFile}:");
Console.WriteLine($"  {"format",-10} {"level",5} {"ppl ORT",10} {"ppl ours",10} {"max |Δ logp|",13} {"ORT ms",8} {"ours ms",8}");
string scratch = Path.Combine(Path.GetTempPath(), $"onnx-vs-workbench-{Guid.NewGuid():N}");
try
{
    foreach (var (name, policy, level) in cases)
    {
        string dir = Path.Combine(scratch, $"{name}-{level}");
        using (var input = CheckpointOpener.Open(modelDir))
            OnnxExporter.Write(input, s => policy.Choose(s), dir, new OnnxExportOptions { AccuracyLevel = level });
        using var session = ModelSession.Open(modelDir, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        if (policy != f32) session.ReplaceModel(ModelQuantizer.Apply(session.Model, policy));
        var ours = session.AsLanguageModel(maxTokens);
        using var ort = OnnxRuntimeLanguageModel.Open(dir, threads: Environment.ProcessorCount);
        var tokens = ours.Encode(text, true).Take(maxTokens).ToArray();
        Scores a = new(), b = new();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ort.ScoreTokens(tokens, 1, a);
        double ortMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        ours.ScoreTokens(tokens, 1, b);
        double oursMs = clock.Elapsed.TotalMilliseconds;
        double max = 0;
        for (int i = 0; i < a.Rows.Count; i++)
            for (int v = 0; v < a.Rows[i].Length; v++) max = Math.Max(max, Math.Abs(a.Rows[i][v] - b.Rows[i][v]));
        Console.WriteLine($"  {name,-10} {level,5} {a.Perplexity,10:F4} {b.Perplexity,10:F4} {max,13:G3} {ortMs,8:F0} {oursMs,8:F0}");
        Directory.Delete(dir, recursive: true);
    }
}
finally
{
    if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
}

/// <summary>Collects every scored row and the negative log-likelihood of the actual tokens.</summary>
sealed class Scores : ITokenScoreSink
{
    public readonly List<float[]> Rows = [];
    private double _nll;
    public double Perplexity => Math.Exp(_nll / Rows.Count);
    public void Accept(int position, int actualToken, ReadOnlySpan<float> logProbs)
    {
        _nll -= logProbs[actualToken];
        Rows.Add(logProbs.ToArray());
    }
}
