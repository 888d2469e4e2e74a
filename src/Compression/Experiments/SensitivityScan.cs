// SensitivityScan: per-tensor (or per-layer) sensitivity — one tensor quantized at a time, everything else at the
// baseline, KL divergence from the baseline on held-out text; the table a budget plan is made from.
using System.Text.Json;
using System.Text.RegularExpressions;
using Compression.Evaluation.Tasks;
using Compression.IO;
using Compression.Quantization;
using Compression.Quantization.Calibration;
using Compression.Quantization.Methods;
using Compression.Quantization.Planning;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>The KL divergence measured with only <see cref="Tensor"/> (a HF weight name, or every linear of a layer
/// "model.layers.N") quantized to <see cref="Format"/> by <see cref="Method"/>; <see cref="Bytes"/> and
/// <see cref="Parameters"/> of the tensors involved.</summary>
public sealed record SensitivityEntry(string Tensor, string Format, string Method, long Parameters, long Bytes, double KlMean);

/// <summary>Runs the scan and reads/writes its table (<c>sensitivity.json</c>).</summary>
public static class SensitivityScan
{
    public const string FileName = "sensitivity.json";
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>
    /// For every block linear (or, with <paramref name="perLayer"/>, every block) and every format: quantize just that, measure
    /// KL against <paramref name="baseline"/> on <paramref name="textFile"/>, save the record (policy "only NAME") in
    /// <paramref name="store"/> — a re-run skips what is there — and return the table.
    /// </summary>
    public static IReadOnlyList<SensitivityEntry> Run(EvaluatedModel baseline, IReadOnlyList<TensorFormat> formats, QuantizationMethod method,
        CalibrationSet? calibration, string textFile, WindowOptions window, ResultsStore store, bool perLayer = false,
        IProgress<string>? log = null, CancellationToken cancellationToken = default)
    {
        if (method.NeedsCalibration && calibration is null) throw new ArgumentException($"sensitivity: method '{method.Name}' needs a calibration set");
        foreach (var f in formats) method.Check(f);
        var linears = baseline.RequireModel().LinearLayers().Where(l => l.Name != "lm_head.weight").ToList();
        var units = perLayer
            ? linears.GroupBy(l => string.Join('.', l.Name.Split('.').Take(3))).Select(g => (Name: g.Key, Layers: g.ToList())).ToList()
            : linears.Select(l => (Name: l.Name, Layers: new List<(string Name, Model.LinearLayer Layer)> { l })).ToList();
        var entries = new List<SensitivityEntry>();
        foreach (var (name, layers) in units)
            foreach (var format in formats)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long parameters = layers.Sum(l => l.Layer.InFeatures * l.Layer.OutFeatures);
                long bytes = layers.Sum(l => format.ByteCount(l.Layer.OutFeatures, l.Layer.InFeatures));
                var policy = new QuantizationPolicy
                {
                    Format = FormatRegistry.F32, KeepFormat = FormatRegistry.F32, Label = "only " + name,
                    Overrides = [(new Regex("^" + Regex.Escape(name) + (perLayer ? @"\..*" : "") + "$"), format)],
                };
                var key = new ResultKey(baseline.Info.Name, format.Name, policy.Label, KlDivergenceCell.TaskName, 0, method.Name);
                if (!store.TryGet(key, out var record) || record is null)
                {
                    log?.Report($"{name} → {format.Name} ({method.Name})");
                    using var quantized = method.NeedsCalibration
                        ? CalibratedQuantizer.Apply(baseline.RequireModel(), policy, method, calibration!.Sequences)
                        : ModelQuantizer.Apply(baseline.RequireModel(), policy);
                    // Filed under the format tried (the policy's own format is f32: everything else stays at the baseline).
                    var candidate = baseline.Quantized(quantized, policy) with { Format = format.Name };
                    record = KlDivergenceCell.Run(baseline, candidate, textFile, window, 0, null, cancellationToken)
                        with { Method = method.Name, Calibration = calibration?.Spec.Label };
                    store.Save(record);
                }
                entries.Add(new SensitivityEntry(name, format.Name, method.Name, parameters, bytes, record.Metrics[MetricNames.KlMean].Value));
            }
        return entries;
    }

    public static void Save(string path, IReadOnlyList<SensitivityEntry> entries) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(entries, s_json));

    public static IReadOnlyList<SensitivityEntry> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"sensitivity table not found: {path}", path);
        try
        {
            return JsonSerializer.Deserialize<List<SensitivityEntry>>(File.ReadAllText(path), s_json) is { Count: > 0 } e ? e
                : throw new InvalidDataException($"{path}: the sensitivity table is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a sensitivity table ({e.Message.Split(" Path:")[0]})", e);
        }
    }

    /// <summary>
    /// The plan's input: each scanned tensor with one option per format (its bytes, its measured KL), restricted to
    /// <paramref name="formats"/> when given and to one method.
    /// </summary>
    public static IReadOnlyList<TensorChoices> Choices(IReadOnlyList<SensitivityEntry> entries, string method, IReadOnlyCollection<string>? formats = null)
    {
        var chosen = entries.Where(e => e.Method == method && (formats is null || formats.Contains(e.Format))).ToList();
        if (chosen.Count == 0) throw new ArgumentException($"plan: the sensitivity table has no entries for method '{method}'{(formats is null ? "" : " and formats " + string.Join(",", formats))}");
        return chosen.GroupBy(e => e.Tensor).Select(g => new TensorChoices(g.Key, g.Select(e => new TensorOption(e.Format, e.Bytes, e.KlMean)).ToList())).ToList();
    }

    /// <summary>A budget in bytes from "3.5bpw" (over <paramref name="parameters"/>), "2.5GB", "800MB" or a byte count.</summary>
    public static long ParseBudget(string text, long parameters)
    {
        string t = text.Trim();
        if (t.EndsWith("bpw", StringComparison.OrdinalIgnoreCase) && double.TryParse(t[..^3], System.Globalization.CultureInfo.InvariantCulture, out double bpw) && bpw > 0)
            return (long)Math.Floor(bpw * parameters / 8);
        try { return Checkpoints.Safetensors.SyntheticCheckpoint.ParseSize(t); }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new ArgumentException($"--budget '{text}': expected bits per weight (3.5bpw) or a size (2.5GB, 800MB, bytes)");
        }
    }
}
