// SampleRecords: hand-made result records of a small sweep, for store, CSV and report tests.
using Compression.Reporting;

namespace Compression.Tests.Reporting;

internal static class SampleRecords
{
    public static readonly MachineInfo Machine = new("Test CPU 9000", 2, ["AVX2", "FMA", "F16C"], 24L << 30, "Linux test", ".NET test");
    public static readonly DateTimeOffset Time = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    public static readonly ModelInfo Model = new("proxy-llama", "/models/proxy", 6_000_000);

    /// <summary>A record with fixed provenance so tests can assert exact text.</summary>
    public static ResultRecord Make(string format, string task, IReadOnlyDictionary<string, MetricValue> metrics,
        long bytes, int seed = 0, string policy = "default", ModelInfo? model = null) => new()
    {
        Id = $"{format}-{task}-{seed}",
        Model = model ?? Model,
        Format = format,
        Policy = policy,
        Task = new TaskInfo(task, "1"),
        Metrics = metrics,
        Settings = new RunSettings { Seed = seed, ContextLength = 256, FewShot = task == "recall" ? 0 : null },
        Size = new SizeInfo(bytes, 8.0 * bytes / 6_000_000),
        ToolVersion = "1.0.0",
        GitCommit = "0123456789abcdef0123456789abcdef01234567",
        Machine = Machine,
        TimeUtc = Time,
    };

    static Dictionary<string, MetricValue> M(params (string Name, MetricValue Value)[] m) => m.ToDictionary(x => x.Name, x => x.Value);

    /// <summary>f16 baseline and three quantized formats, each with perplexity, KL, accuracy and throughput records.</summary>
    public static List<ResultRecord> Sweep()
    {
        var list = new List<ResultRecord>();
        foreach (var (format, bytes, ppl, kl, top1, acc, tps) in new[]
                 {
                     ("f16", 12_000_000L, 5.21, 0.0, 1.0, 0.712, 310.0),
                     ("q8_0", 6_375_000L, 5.22, 0.0021, 0.985, 0.709, 520.0),
                     ("q4_0", 3_375_000L, 5.61, 0.071, 0.902, 0.655, 790.0),
                     ("q1_0", 843_750L, 480.0, 3.9, 0.21, 0.262, 1450.0),
                 })
        {
            list.Add(Make(format, "wikitext", M((MetricNames.Perplexity, new(ppl)), (MetricNames.BitsPerByte, new(ppl / 10))), bytes));
            if (format != "f16")
                list.Add(Make(format, "kl-vs-f16", M((MetricNames.KlMean, new(kl)), (MetricNames.Top1Agreement, new(top1))), bytes));
            list.Add(Make(format, "recall", M((MetricNames.Accuracy, new(acc, acc - 0.031, acc + 0.029, 0.015)),
                (MetricNames.AccuracyNorm, new(acc + 0.01))), bytes));
            list.Add(Make(format, "bench", M((MetricNames.DecodeTokensPerSecond, new(tps, tps * 0.97, tps * 1.02))), bytes));
        }
        return list;
    }
}
