// ResultRecord: one measurement as stored under results/ — what was measured, on what, by which build, where and when.
namespace Compression.Reporting;

/// <summary>
/// One measurement: a model in one storage format under one policy, evaluated on one task with one seed.
/// Serialised as camelCase JSON by <see cref="ResultJson"/>; one file per record in a <see cref="ResultsStore"/>.
/// </summary>
public sealed record ResultRecord
{
    /// <summary>Unique id of this measurement (a new GUID per run; re-running a cell gives a new id).</summary>
    public required string Id { get; init; }

    /// <summary>The model measured.</summary>
    public required ModelInfo Model { get; init; }

    /// <summary>Storage format name as in the format registry ("f16", "q8_0", "q1_0" …).</summary>
    public required string Format { get; init; }

    /// <summary>Quantization policy label ("default", "pure" …): which tensors the format was applied to.</summary>
    public required string Policy { get; init; }

    /// <summary>Quantization method ("gptq", "awq" …); null for round-to-nearest (and for records made before methods existed).</summary>
    public string? Method { get; init; }

    /// <summary>The calibration set a calibrated method used ("train.txt 32×256 seed 1234"), or null.</summary>
    public string? Calibration { get; init; }

    /// <summary>The task run, with its version so scores from different task revisions are never mixed.</summary>
    public required TaskInfo Task { get; init; }

    /// <summary>Metric name (see <see cref="MetricNames"/>) → value with optional interval.</summary>
    public required IReadOnlyDictionary<string, MetricValue> Metrics { get; init; }

    /// <summary>Settings that change the numbers: seed, context length, few-shot count …</summary>
    public required RunSettings Settings { get; init; }

    /// <summary>Measured size of the artifact evaluated; null when the task did not measure it.</summary>
    public SizeInfo? Size { get; init; }

    /// <summary>Informational version of the workbench that produced the record.</summary>
    public required string ToolVersion { get; init; }

    /// <summary>Git commit of the workbench, or null when it could not be determined.</summary>
    public string? GitCommit { get; init; }

    /// <summary>The machine the measurement ran on (throughput depends on it).</summary>
    public required MachineInfo Machine { get; init; }

    /// <summary>When the measurement finished, in UTC.</summary>
    public required DateTimeOffset TimeUtc { get; init; }

    /// <summary>The cell this record fills in a sweep: what a re-run checks before measuring again.</summary>
    public ResultKey Key => new(Model.Name, Format, Policy, Task.Name, Settings.Seed, Method ?? ResultKey.Rtn, Engine);

    /// <summary>
    /// The engine that computed the numbers: the <c>engine</c> setting (which throughput records have always carried),
    /// <see cref="ResultKey.DefaultEngine"/> when a record names none.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Engine => Settings.Extra?.GetValueOrDefault("engine") ?? ResultKey.DefaultEngine;

    /// <summary>
    /// A record stamped with a fresh id, the current tool version and git commit, this machine and the current UTC time.
    /// </summary>
    public static ResultRecord Create(ModelInfo model, string format, string policy, TaskInfo task,
        IReadOnlyDictionary<string, MetricValue> metrics, RunSettings settings, SizeInfo? size = null) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        Model = model,
        Format = format,
        Policy = policy,
        Task = task,
        Metrics = metrics,
        Settings = settings,
        Size = size,
        ToolVersion = BuildInfo.ToolVersion,
        GitCommit = BuildInfo.GitCommit,
        Machine = MachineInfo.Current,
        TimeUtc = DateTimeOffset.UtcNow,
    };
}

/// <summary>The model measured: a display name (the key used to group results), where it was loaded from, and its parameter count.</summary>
public sealed record ModelInfo(string Name, string? Path, long ParameterCount);

/// <summary>A task and its version (bump the version whenever prompts, scoring or data handling change).</summary>
public sealed record TaskInfo(string Name, string Version);

/// <summary>
/// A metric value with an optional 95% interval (<paramref name="Lower"/>, <paramref name="Upper"/>) and standard error.
/// </summary>
public sealed record MetricValue(double Value, double? Lower = null, double? Upper = null, double? StdErr = null);

/// <summary>Settings that affect the numbers. <see cref="Extra"/> holds task-specific ones (stride, warm-up, repetitions …).</summary>
public sealed record RunSettings
{
    /// <summary>Seed for sampling few-shot examples, document order or synthetic inputs.</summary>
    public int Seed { get; init; }

    /// <summary>Context length in tokens (perplexity window, benchmark prompt), when it applies.</summary>
    public int? ContextLength { get; init; }

    /// <summary>Few-shot example count, when it applies.</summary>
    public int? FewShot { get; init; }

    /// <summary>Number of documents/items evaluated when limited, null when the whole set was used.</summary>
    public int? Limit { get; init; }

    /// <summary>Other settings as name → text.</summary>
    public IReadOnlyDictionary<string, string>? Extra { get; init; }
}

/// <summary>Measured size of an artifact: bytes of the weights and bits per weight over all parameters.</summary>
public sealed record SizeInfo(long Bytes, double BitsPerWeight)
{
    /// <summary>Decimal gigabytes (10⁹ bytes), as model sizes are usually quoted.</summary>
    public double Gigabytes => Bytes / 1e9;
}
