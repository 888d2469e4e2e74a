#:project ../src/Compression/Compression.csproj
#:property PublishAot=false
// What does Llama 3.1 8B weigh in each format? Computed from the config alone — no weights needed.
using Compression.Model;
using Compression.Quantization;

var config = LlamaConfig.Llama31_8B;
Console.WriteLine($"Llama 3.1 8B: {LlamaTensorLayout.ParameterCount(config):N0} parameters");
foreach (var row in SizeTable.Rows(config))
    Console.WriteLine($"{row.FormatName,-8} {row.PolicyLabel,-12} {row.GB,8:F2} GB {row.BitsPerWeight,7:F3} bpw");
