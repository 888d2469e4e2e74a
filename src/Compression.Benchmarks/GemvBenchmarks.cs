// GemvBenchmarks: decode GEMV for every registered format at Llama 8B shapes, against libtorch fp32, in GB/s of weights read.
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Compression.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Benchmarks;

/// <summary>
/// y = W·x with W packed (the decode inner loop). "torch_f32" is libtorch's <c>torch.mv</c> on an fp32
/// tensor — the baseline. The GB/s column is packed weight bytes / mean time: decode is memory-bound,
/// so compare it with the machine's read bandwidth (<see cref="Compression.Kernels.MemoryBandwidth"/>;
/// the roofline harness, <c>-- roofline</c>, measures both in one run and every ISA level). Kernels run
/// at <see cref="Compression.Kernels.KernelIsa.Current"/>: set COMPRESS_ISA=avx2 to time the AVX2 path.
/// Run: <c>dotnet run -c Release --project src/Compression.Benchmarks -- --filter '*Gemv*' --job short</c>.
/// </summary>
[Config(typeof(GbPerSecondConfig))]
public unsafe class GemvBenchmarks
{
    public const string TorchBaseline = "torch_f32";

    public static IEnumerable<string> Formats => [TorchBaseline, .. FormatRegistry.All.Select(f => f.Name)];

    [ParamsSource(nameof(Formats))] public string Format { get; set; } = "";
    [Params("4096x4096", "14336x4096", "4096x14336")] public string Shape { get; set; } = "";

    private PackedLinear? _layer;
    private Tensor? _w, _xt;
    private float[] _x = [], _y = [];

    public static (int Rows, int Cols) ParseShape(string s) => (int.Parse(s.Split('x')[0]), int.Parse(s.Split('x')[1]));

    /// <summary>Bytes of weights one GEMV reads.</summary>
    public static long WeightBytes(string format, string shape)
    {
        var (rows, cols) = ParseShape(shape);
        return format == TorchBaseline ? 4L * rows * cols : FormatRegistry.Get(format).ByteCount(rows, cols);
    }

    [GlobalSetup]
    public void Setup()
    {
        var (rows, cols) = ParseShape(Shape);
        torch.random.manual_seed(1);
        _w = randn(rows, cols) * 0.02f;
        _x = new float[cols];
        var rng = new Random(2);
        for (int i = 0; i < cols; i++) _x[i] = (float)(rng.NextDouble() * 2 - 1);
        _y = new float[rows];
        if (Format == TorchBaseline)
        {
            _xt = tensor(_x);
        }
        else
        {
            _layer = new PackedLinear(_w, FormatRegistry.Get(Format));
            _w.Dispose();
            _w = null;
        }
    }

    [Benchmark]
    public float Gemv()
    {
        if (_layer is not null)
        {
            fixed (float* px = _x)
            fixed (float* py = _y) _layer.Multiply(px, 1, py);
            return _y[0];
        }
        using var y = _w!.mv(_xt!);
        return 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _layer?.Dispose(); _w?.Dispose(); _xt?.Dispose();
    }

    private sealed class GbPerSecondConfig : ManualConfig
    {
        public GbPerSecondConfig() => AddColumn(new GbPerSecondColumn());
    }

    /// <summary>Packed weight bytes read per call divided by the mean time.</summary>
    private sealed class GbPerSecondColumn : IColumn
    {
        public string Id => "GBps";
        public string ColumnName => "GB/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "weight bytes read per GEMV / mean time (GB = 1e9 bytes)";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats is null) return "-";
            string format = (string)benchmarkCase.Parameters["Format"];
            string shape = (string)benchmarkCase.Parameters["Shape"];
            return (WeightBytes(format, shape) / stats.Mean).ToString("F1"); // bytes per ns = GB/s
        }
    }
}
