// Compression.Benchmarks: BenchmarkDotNet suites; run `dotnet run -c Release --project src/Compression.Benchmarks -- --filter '*'`.
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
