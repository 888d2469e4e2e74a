#:project ../src/Compression/Compression.csproj
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
// What does Llama 3.1 8B weigh in each format? Everything here is computed from the config alone —
// the published shapes and the format registry's block layouts — so no weights are needed.
// Run: dotnet run notebooks/llama-8b-sizes.cs   (writes notebooks/out/llama-8b-sizes.png/.svg)
using Compression.Model;
using Compression.Quantization;
using Compression.Reporting;

var config = LlamaConfig.Llama31_8B;
long parameters = LlamaTensorLayout.ParameterCount(config);
Console.WriteLine($"Llama 3.1 8B has {parameters:N0} parameters. At 16 bits that is {parameters * 2 / 1e9:F2} GB —");
Console.WriteLine("the '16.07 GB' of the size comparisons (which round 16.06 up).\n");

Console.WriteLine("Where do the parameters sit? The two 128k-vocabulary matrices alone are 13% of the model:");
foreach (var group in LlamaTensorLayout.Expected(config).GroupBy(s => SizeAccounting.Group(s.Role)))
    Console.WriteLine($"  {group.Key,-24} {group.Sum(s => s.Elements),15:N0}  {100.0 * group.Sum(s => s.Elements) / parameters,5:F1}%");

Console.WriteLine("\nSize per format. 'default' keeps the embedding and LM head at 16 bits; 'pure' quantizes every matrix;");
Console.WriteLine("'llama.cpp' is llama-quantize's own choice (q4_0 keeps output.weight at q6_k):");
Console.WriteLine($"  {"format",-9} {"policy",-12} {"GB",8} {"GiB",8} {"bits/w",7}");
var rows = SizeTable.Rows(config);
foreach (var row in rows)
    Console.WriteLine($"  {row.FormatName,-9} {row.PolicyLabel,-12} {row.GB,8:F2} {row.GiB,8:F2} {row.BitsPerWeight,7:F3}");

var q1 = rows.First(r => r.FormatName == "q1_0" && r.PolicyLabel == "pure");
var q1Default = rows.First(r => r.FormatName == "q1_0" && r.PolicyLabel == "default");
Console.WriteLine($"\nAt one bit the 16-bit embedding and LM head dominate: q1_0 'default' is {q1Default.GB:F2} GB, of which");
long vocabMatrices = LlamaTensorLayout.Expected(config).Where(s => s.Role is TensorRole.Embedding or TensorRole.LmHead).Sum(s => s.Elements);
Console.WriteLine($"{vocabMatrices * 2 / 1e9:F2} GB are those two matrices; quantizing them too ('pure', as Bonsai does) gives {q1.GB:F2} GB.");
Console.WriteLine("(Bonsai 8B is 1.15 GB on a Qwen3-8B body — a different architecture, cited for scale only.)");

Directory.CreateDirectory("notebooks/out");
var bars = rows.Where(r => r.PolicyLabel is "all tensors" or "default" || (r.PolicyLabel == "llama.cpp" && r.FormatName != "q1_0")
        || (r.PolicyLabel == "pure" && r.FormatName == "q1_0"))
    .Select(r => new SizeBar($"{r.FormatName} ({r.PolicyLabel})", r.Bytes)).ToList();
var chart = Charts.ModelSizes(bars, "notebooks/out/llama-8b-sizes");
Console.WriteLine($"\nchart: {chart.PngPath}");
