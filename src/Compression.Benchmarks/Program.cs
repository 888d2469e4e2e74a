// Compression.Benchmarks: BenchmarkDotNet suites (`-- --filter '*'`) and the GEMV roofline harness (`-- roofline`).
using BenchmarkDotNet.Running;
using Compression.Benchmarks;

if (args.Length > 0 && args[0] == "roofline") return Roofline.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
