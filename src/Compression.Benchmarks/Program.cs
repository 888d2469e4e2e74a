// Compression.Benchmarks: BenchmarkDotNet suites (`-- --filter '*'`), the GEMV roofline harness (`-- roofline`), the prefill GEMM harness (`-- gemm`), a model's GEMVs (`-- sweep`) and decode from a format's decode layout against the file's (`-- decode-layout`).
using BenchmarkDotNet.Running;
using Compression.Benchmarks;

if (args.Length > 0 && args[0] == "roofline") return Roofline.Run(args[1..]);
if (args.Length > 0 && args[0] == "gemm") return GemmBench.Run(args[1..]);
if (args.Length > 0 && args[0] == "sweep") return Sweep.Run(args[1..]);
if (args.Length > 0 && args[0] == "decode-layout") return DecodeLayoutBench.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
