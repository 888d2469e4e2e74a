// ReportInputs: what a report draws besides records — the size table and per-tensor errors — kept beside the records
// so `compress report` and `compress plot` redraw exactly what the sweep drew.
using System.Text.Json;
using Compression.IO;
using Compression.Model;
using Compression.Quantization;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>Saves and loads ROOT/size-table.json and ROOT/tensor-errors.json, and builds <see cref="ReportOptions"/> from them.</summary>
public static class ReportInputs
{
    /// <summary>One row of a size table: a config preset in one format under one policy.</summary>
    public sealed record SizeTableRow(string Preset, string Format, string Policy, long Parameters, long Bytes, double BitsPerWeight);

    /// <summary>The file form of a size table.</summary>
    public sealed record SizeTableFile(string Title, IReadOnlyList<string> Presets, IReadOnlyList<SizeTableRow> Rows);

    public const string SizeTableFileName = "size-table.json";
    public const string TensorErrorsFileName = "tensor-errors.json";
    public const string TitleFileName = "title.txt";

    /// <summary>Every size row (<see cref="SizeTable.Rows"/>) of each preset, computed from its config alone.</summary>
    public static SizeTableFile BuildSizeTable(IReadOnlyList<string> presets)
    {
        var rows = new List<SizeTableRow>();
        foreach (string preset in presets)
            foreach (var r in SizeTable.Rows(LlamaConfig.Preset(preset)))
                rows.Add(new SizeTableRow(preset, r.FormatName, r.PolicyLabel, r.Parameters, r.Bytes, r.BitsPerWeight));
        string title = presets.Count == 1 ? $"{presets[0]} size per format" : "Model size per format";
        return new SizeTableFile(title, presets, rows);
    }

    /// <summary>
    /// The bars charted for a size table: each float format (all tensors), each quantizing format under the
    /// workbench's default policy and under llama.cpp's own choices (the sizes people quote for GGUF files),
    /// and q1_0 quantized end to end (Bonsai-style). With several presets the labels carry the preset name.
    /// </summary>
    public static IReadOnlyList<SizeBar> Bars(SizeTableFile table) =>
        table.Rows.Where(r => r.Policy is "all tensors" or "default" || (r.Policy == "llama.cpp" && r.Format != "q1_0")
                              || (r.Policy == "pure" && r.Format == "q1_0"))
            .Select(r =>
            {
                string label = r.Policy == "all tensors" ? r.Format : $"{r.Format} ({r.Policy})";
                return table.Presets.Count > 1
                    ? new SizeBar($"{r.Preset} {label}", r.Bytes, LlamaConfig.Preset(r.Preset).Family.Name)
                    : new SizeBar(label, r.Bytes);
            })
            .ToList();

    public static void SaveSizeTable(string root, SizeTableFile table) =>
        AtomicFile.WriteAllText(Path.Combine(root, SizeTableFileName), JsonSerializer.Serialize(table, ExperimentSpecJson.Default.SizeTableFile));

    public static void SaveTensorErrors(string root, IReadOnlyList<TensorError> errors) =>
        AtomicFile.WriteAllText(Path.Combine(root, TensorErrorsFileName), JsonSerializer.Serialize(errors.ToList(), ExperimentSpecJson.Default.ListTensorError));

    /// <summary>The size table saved under <paramref name="root"/>, or null; a corrupt file throws naming it.</summary>
    public static SizeTableFile? LoadSizeTable(string root) =>
        Read(Path.Combine(root, SizeTableFileName), json => JsonSerializer.Deserialize(json, ExperimentSpecJson.Default.SizeTableFile));

    /// <summary>The per-tensor errors saved under <paramref name="root"/> (empty when none).</summary>
    public static IReadOnlyList<TensorError> LoadTensorErrors(string root) =>
        Read(Path.Combine(root, TensorErrorsFileName), json => JsonSerializer.Deserialize(json, ExperimentSpecJson.Default.ListTensorError)) ?? [];

    /// <summary>Folder of the QAT runs' summaries (their validation curves) under a results root.</summary>
    public const string TrainingCurvesFolder = "qat";

    /// <summary>Copies a QAT run's summary to ROOT/qat/{method}-{format}-{policy}.json for the training-curve charts.</summary>
    public static void SaveTrainingCurve(string root, Training.Qat.QatSummary summary)
    {
        string dir = Path.Combine(root, TrainingCurvesFolder);
        Directory.CreateDirectory(dir);
        var o = summary.Options;
        // Machine-independent: the summary names the GGUF by file name only (the absolute path is the machine's cache).
        var portable = summary with { Gguf = Path.GetFileName(summary.Gguf) };
        AtomicFile.WriteAllText(Path.Combine(dir, $"{o.Method.Replace('+', '-')}-{o.TensorFormat.Name}-{o.Policy}.json"),
            JsonSerializer.Serialize(portable, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The training curves saved under <paramref name="root"/> (empty when none); a corrupt file throws naming it.</summary>
    public static IReadOnlyList<TrainingCurve> LoadTrainingCurves(string root)
    {
        string dir = Path.Combine(root, TrainingCurvesFolder);
        if (!Directory.Exists(dir)) return [];
        var curves = new List<TrainingCurve>();
        foreach (string file in Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
        {
            var s = Read(file, json => JsonSerializer.Deserialize<Training.Qat.QatSummary>(json))!;
            curves.Add(new TrainingCurve($"{s.Method} {s.Options.Format} {s.Options.Policy}",
                s.Curve.Select(e => new CurvePoint(e.Step, e.Loss, e.Kl)).ToList(), s.BaselineLoss, s.ElapsedSeconds));
        }
        return curves;
    }

    /// <summary>Remembers the report title so a later `compress report` uses it too.</summary>
    public static void SaveTitle(string root, string title) => AtomicFile.WriteAllText(Path.Combine(root, TitleFileName), title);

    /// <summary>Report options drawing what is saved under <paramref name="root"/>: title, size table bars, per-tensor errors.</summary>
    public static ReportOptions Options(string root)
    {
        var options = new ReportOptions();
        string titlePath = Path.Combine(root, TitleFileName);
        if (File.Exists(titlePath) && File.ReadAllText(titlePath).Trim() is { Length: > 0 } title) options = options with { Title = title };
        if (LoadSizeTable(root) is { Rows.Count: > 0 } table)
        {
            options = options with { SizeTable = Bars(table), SizeTableTitle = table.Title };
            if (!table.Presets.Contains("llama-3.1-8b"))
            {
                // The quoted 16.07 GB reference belongs to Llama 3.1 8B only; other presets are compared with their own FP16 size.
                var f16 = table.Rows.FirstOrDefault(r => r.Format == "f16" && r.Preset == table.Presets[0]);
                options = options with
                {
                    SizeTableReferenceBytes = f16?.Bytes,
                    SizeTableReferenceLabel = f16 is null ? "" : $"FP16 {f16.Bytes / 1e9:0.00} GB",
                };
            }
        }
        if (LoadTensorErrors(root) is { Count: > 0 } errors) options = options with { TensorErrors = errors };
        if (LoadTrainingCurves(root) is { Count: > 0 } curves) options = options with { TrainingCurves = curves };
        return options;
    }

    private static T? Read<T>(string path, Func<string, T?> parse) where T : class
    {
        if (!File.Exists(path)) return null;
        try { return parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: holds JSON null"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid {Path.GetFileName(path)}: {e.Message}", e); }
    }
}
