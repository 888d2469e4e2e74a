// compress sensitivity: per-tensor (or per-layer) KL divergence with one tensor quantized at a time — the table
// `compress plan` chooses formats from.
using System.CommandLine;
using Compression.Evaluation.Tasks;
using Compression.Experiments;
using Compression.Inference;
using Compression.Quantization;
using Compression.Quantization.Calibration;
using Compression.Quantization.Methods;
using Compression.Reporting;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class SensitivityCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Checkpoint (HF directory or .gguf)", Required = true };
        var formats = new Option<string[]>("--format", "-f") { Description = "Formats to try for each tensor (q1_0 int2 int3 q4_0 q8_0 …)", Required = true, AllowMultipleArgumentsPerToken = true };
        var method = new Option<string>("--method") { Description = "Quantization method: rtn, gptq, awq, imatrix", DefaultValueFactory = _ => "rtn" };
        var text = new Option<string>("--text") { Description = "Held-out raw text for the KL divergence", Required = true };
        var context = new Option<int>("--context") { Description = "KL window length", DefaultValueFactory = _ => 256 };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Score only the first N tokens of --text", DefaultValueFactory = _ => 4096 };
        var calibration = new Option<string?>("--calibration") { Description = "Calibration text or JSONL (calibrated methods)" };
        var sequences = new Option<int>("--sequences") { Description = "Calibration sequences", DefaultValueFactory = _ => 32 };
        var length = new Option<int>("--length") { Description = "Tokens per calibration sequence", DefaultValueFactory = _ => 256 };
        var perLayer = new Option<bool>("--per-layer") { Description = "Quantize one whole block at a time instead of one tensor" };
        var output = new Option<string>("--out", "-o") { Description = "Folder for the records and sensitivity.json", DefaultValueFactory = _ => "results/sensitivity" };
        var command = new Command("sensitivity", "Per-tensor sensitivity: KL divergence from the model as loaded with one tensor (or layer) quantized at a time")
        {
            model, formats, method, text, context, maxTokens, calibration, sequences, length, perLayer, output,
        };
        command.SetAction((parse, cancel) =>
        {
            var fs = parse.GetValue(formats)!.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(FormatRegistry.Get).ToList();
            var m = MethodRegistry.Get(parse.GetValue(method)!);
            string textFile = parse.GetValue(text)!;
            if (!File.Exists(textFile)) throw new FileNotFoundException($"--text: {textFile} does not exist", textFile);
            using var session = ModelSession.Open(parse.GetValue(model)!, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
            var baseline = EvaluatedModel.Baseline(session);
            CalibrationSet? set = null;
            if (m.NeedsCalibration)
            {
                string file = parse.GetValue(calibration) ?? throw new ArgumentException($"--method {m.Name} needs --calibration FILE");
                var tokenizer = session.Tokenizer ?? throw new InvalidDataException($"{session.Path}: no tokenizer; calibration text needs one");
                set = CalibrationSet.Load(new CalibrationSpec(file, parse.GetValue(sequences), parse.GetValue(length)), t => tokenizer.Encode(t, addBos: true));
            }
            var store = new ResultsStore(parse.GetValue(output)!);
            Directory.CreateDirectory(store.Root);
            var window = new WindowOptions { ContextLength = parse.GetValue(context), MaxTokens = parse.GetValue(maxTokens) };
            var entries = SensitivityScan.Run(baseline, fs, m, set, textFile, window, store, parse.GetValue(perLayer),
                new Progress<string>(s => SweepConsole.Err.MarkupLine($"[grey]{Markup.Escape(s)}[/]")), cancel);
            string path = Path.Combine(store.Root, SensitivityScan.FileName);
            SensitivityScan.Save(path, entries);
            var table = new Table().AddColumn("tensor");
            foreach (var f in fs) table.AddColumn(new TableColumn($"KL {f.Name}").RightAligned());
            foreach (var g in entries.GroupBy(e => e.Tensor))
                table.AddRow([Markup.Escape(g.Key), .. fs.Select(f => g.FirstOrDefault(e => e.Format == f.Name)?.KlMean.ToString("G3") ?? "—")]);
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(path)}[/] ({entries.Count} entries, method {m.Name})");
            // The layer × projection heatmaps (per-tensor scans; a --per-layer table has no projections to lay out).
            string charts = Path.Combine(store.Root, "charts");
            Directory.CreateDirectory(charts);
            foreach (var chart in Charts.SensitivityHeatmaps(entries.Select(e => new SensitivityCell(e.Tensor, e.Format, e.KlMean)).ToList(), charts,
                         m.Name == "rtn" ? "sensitivity" : $"sensitivity-{m.Name}"))
                AnsiConsole.MarkupLine($"chart [bold]{Markup.Escape(chart.PngPath)}[/]");
            return Task.FromResult(0);
        });
        return command;
    }
}
