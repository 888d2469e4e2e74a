#:project ../src/Compression/Compression.csproj
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
// Which layers suffer most from quantization? For each format, the relative error ‖W − Ŵ‖/‖W‖ of every
// projection of every block, streamed from the checkpoint tensor by tensor (the same code runs on an 8B).
// Run: dotnet run notebooks/quantization-error-by-layer.cs [CHECKPOINT]
//   default CHECKPOINT: the trained proxy (.cache/proxy/proxy-llama) when it exists, else the shipped tiny fixture.
using Compression.Checkpoints;
using Compression.Quantization;
using Compression.Reporting;

string path = args.Length > 0 ? args[0]
    : Directory.Exists(".cache/proxy/proxy-llama") ? ".cache/proxy/proxy-llama"
    : "tests/Compression.Tests/Fixtures/tiny-llama3";
using var checkpoint = CheckpointOpener.Open(path);
Console.WriteLine($"{path}: {checkpoint.Config.NumLayers} layers, hidden {checkpoint.Config.HiddenSize}\n");

string[] formats = ["q8_0", "int8", "q4_0", "int4", "int4_g32", "q1_0"];
var errors = new List<TensorError>();
foreach (var name in formats) errors.AddRange(QuantizationError.Measure(checkpoint, FormatRegistry.Get(name)));

Console.WriteLine("Mean relative error per format and projection (rows) — what each bit width costs, and where:");
Console.WriteLine($"  {"format",-9}" + string.Concat(Charts.ProjectionOrder.Select(p => $"{p,9}")));
foreach (var format in formats)
    Console.WriteLine($"  {format,-9}" + string.Concat(Charts.ProjectionOrder.Select(p =>
        $"{errors.Where(e => e.Format == format && e.Projection == p).Select(e => e.RelativeError).DefaultIfEmpty(double.NaN).Average(),9:F4}")));

// Error per bit: halving the step of a uniform quantizer halves its error, so each bit should buy ~2×.
var mean = formats.ToDictionary(f => f, f => errors.Where(e => e.Format == f).Average(e => e.RelativeError));
Console.WriteLine($"\nq8_0 → q4_0: error ×{mean["q4_0"] / mean["q8_0"]:F1} for 4 fewer bits (a uniform quantizer predicts ×16).");
Console.WriteLine($"int4 (group 128, scale + zero) vs q4_0 (block 32, scale only): {mean["int4"]:F4} vs {mean["q4_0"]:F4}; int4_g32: {mean["int4_g32"]:F4}.");
Console.WriteLine($"q1_0 keeps only signs and a mean magnitude: {mean["q1_0"]:F3} — for Gaussian weights √(1 − 2/π) ≈ 0.603.");

var worst = errors.Where(e => e.Format == "q4_0").OrderByDescending(e => e.RelativeError).First();
Console.WriteLine($"Most sensitive q4_0 tensor: layer {worst.Layer} {worst.Projection} ({worst.RelativeError:F4}).");

Directory.CreateDirectory("notebooks/out");
var charts = Charts.TensorErrors(errors, "notebooks/out", "tensor-error");
Console.WriteLine($"\ncharts: {string.Join(", ", charts.Select(c => c.PngPath))}");
