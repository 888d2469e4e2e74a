// compress inspect: parameter counts and sizes of a config (no weights needed), a checkpoint directory or a GGUF file.
using System.CommandLine;
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Model;
using Compression.Quantization;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class InspectCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = $"config.json, a checkpoint directory, or a preset name ({string.Join(", ", LlamaConfig.PresetNames)})" };
        var families = new Option<bool>("--families") { Description = "Compare the sizes of Llama 3.1 8B, Qwen3 8B, Bonsai 8B, Llama 2 7B, Mistral 7B and Mixtral 8x7B at f16/q8_0/q4_0/q1_0" };
        var path = new Argument<string?>("PATH") { Description = "A checkpoint directory or .gguf file to inspect on disk", Arity = ArgumentArity.ZeroOrOne };
        var allowNonFinite = CliOptions.AllowNonFinite();
        allowNonFinite.Description = "Report tensors holding NaN or ±Inf without failing";
        var command = new Command("inspect", "Parameters and sizes of a config (default Llama 3.1 8B), a checkpoint directory or a GGUF file");
        command.Options.Add(config);
        command.Options.Add(families);
        command.Options.Add(allowNonFinite);
        command.Arguments.Add(path);
        command.SetAction(parse =>
        {
            string? file = parse.GetValue(path);
            if (file is not null)
            {
                using var checkpoint = CheckpointOpener.Open(file);
                PrintConfig(checkpoint.Config, file);
                PrintOnDisk(checkpoint);
                ReportNonFinite(checkpoint, parse.GetValue(allowNonFinite));
                return 0;
            }
            if (parse.GetValue(families))
            {
                PrintFamilies();
                return 0;
            }
            string? c = parse.GetValue(config);
            var cfg = c is null ? LlamaConfig.Llama31_8B
                : File.Exists(c) || Directory.Exists(c) ? LlamaConfig.Load(c) : LlamaConfig.Preset(c);
            PrintConfig(cfg, c ?? "llama-3.1-8b (built-in preset)");
            PrintSizes(cfg);
            PrintPublished(c ?? "llama-3.1-8b", cfg);
            return 0;
        });
        return command;
    }

    private static void PrintConfig(LlamaConfig c, string source)
    {
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(source)}[/]: {c.Family.Name} · hidden {c.HiddenSize} · intermediate {c.IntermediateSize} · {c.NumLayers} layers · " +
            $"{c.NumHeads} heads · {c.NumKeyValueHeads} KV heads · head_dim {c.HeadDim} · vocab {c.VocabSize} · " +
            $"{(c.TieWordEmbeddings ? "tied" : "untied")} embeddings · rope θ {c.RopeTheta:G} {(c.RopeScaling is { Kind: "llama3" } r ? $"(llama3 scaling ×{r.Factor:G})" : "")}" +
            (c.Family.QueryKeyNorm ? " · q/k RMSNorm per head" : "") + (c.AttentionWindow is int w ? $" · sliding window {w}" : "") +
            (c.Experts > 0 ? $" · {c.Experts} experts, top-{c.ExpertsPerToken}" : ""));
        var table = new Table().Border(TableBorder.Rounded).AddColumn("tensor group").AddColumn(new TableColumn("tensors").RightAligned())
            .AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
        var specs = LlamaTensorLayout.Expected(c);
        long total = specs.Sum(s => s.Elements);
        foreach (var g in specs.GroupBy(s => SizeAccounting.Group(s.Role)))
            table.AddRow(g.Key, g.Count().ToString(), $"{g.Sum(s => s.Elements):N0}", $"{100.0 * g.Sum(s => s.Elements) / total:F2}%");
        table.AddRow("[bold]total[/]", specs.Count.ToString(), $"[bold]{total:N0}[/]", "100%");
        if (c.Experts > 0)
        {
            long active = LlamaTensorLayout.ActiveParameterCount(c);
            table.AddRow($"[bold]active per token[/] (top-{c.ExpertsPerToken} of {c.Experts} experts)", "", $"[bold]{active:N0}[/]", $"{100.0 * active / total:F2}%");
        }
        AnsiConsole.Write(table);
    }

    private static void PrintSizes(LlamaConfig c)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Size by format (tensor bytes; norms kept F32 in quantized files)")
            .AddColumn("format").AddColumn("policy").AddColumn(new TableColumn("bytes").RightAligned())
            .AddColumn(new TableColumn("GB").RightAligned()).AddColumn(new TableColumn("GiB").RightAligned())
            .AddColumn(new TableColumn("bits/weight").RightAligned()).AddColumn("tensor formats");
        foreach (var row in SizeTable.Rows(c))
            table.AddRow(row.FormatName, row.PolicyLabel, $"{row.Bytes:N0}", $"{row.GB:F2}", $"{row.GiB:F2}", $"{row.BitsPerWeight:F3}",
                Markup.Escape(string.Join(", ", row.BytesByFormat.OrderByDescending(kv => kv.Value).Select(kv => kv.Key))));
        AnsiConsole.Write(table);
        // No "GGUF file" column: the header's size depends on the tokenizer, which a config does not carry.
        AnsiConsole.MarkupLine("[grey]default: block linears quantized, embeddings and LM head f16 · pure: every 2-D tensor (llama-quantize --pure) · " +
            "llama.cpp: llama-quantize's own choices (token_embd quantized; output.weight q6_k below 8 bits).[/]");
        AnsiConsole.MarkupLine("[grey]Tensor bytes only. A GGUF file adds its header — metadata, the tokenizer (for Llama 3: 128,256 token strings and " +
            "280,147 merges, roughly 8–10 MB) and alignment padding — which is why llama.cpp's scoreboard lists Llama 3 8B files of 7.96 GiB (q8_0) " +
            "and 4.34 GiB (q4_0) where the tensor data here is 7.95 and 4.33 GiB. `compress inspect FILE.gguf` measures a real file.[/]");
    }

    /// <summary>The model makers' published sizes for a preset, beside the same quantity computed from its config.</summary>
    private static void PrintPublished(string preset, LlamaConfig c)
    {
        var figures = PublishedSizes.For(preset).ToList();
        if (figures.Count == 0) return;
        var table = new Table().Border(TableBorder.Rounded).Title("Published figures vs computed").AddColumn("quantity")
            .AddColumn(new TableColumn("published").RightAligned()).AddColumn(new TableColumn("computed").RightAligned())
            .AddColumn(new TableColumn("difference").RightAligned()).AddColumn("source");
        foreach (var f in figures)
        {
            double computed = f.Compute(c);
            string Show(double v) => f.Unit == "bytes" ? $"{v:N0} bytes" : $"{v:0.00#} {f.Unit}";
            string diff = f.Unit == "bytes" ? $"{computed - f.Published:+#,0;-#,0;0} bytes ({100 * (computed - f.Published) / f.Published:+0.000;-0.000}%)"
                : $"{computed - f.Published:+0.000;-0.000;0}";
            table.AddRow(Markup.Escape(f.Quantity), Show(f.Published), Show(computed), diff, Markup.Escape(f.Source));
        }
        AnsiConsole.Write(table);
    }

    /// <summary>The family size comparison (<see cref="SizeTable.FamilyRows"/>).</summary>
    private static void PrintFamilies()
    {
        var rows = SizeTable.FamilyRows();
        var table = new Table().Border(TableBorder.Rounded).Title("Sizes by family (GB of tensor data; quantized: every 2-D tensor in the format, norms and routers f32)")
            .AddColumn("model").AddColumn("family").AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("active").RightAligned());
        foreach (var (format, _) in rows[0].Sizes) table.AddColumn(new TableColumn(format).RightAligned());
        foreach (var r in rows)
            table.AddRow([r.Model, r.Family, $"{r.Parameters / 1e9:F2} B", $"{r.ActiveParameters / 1e9:F2} B", .. r.Sizes.Select(s => $"{s.Bytes / 1e9:F2}")]);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey]Bonsai 8B has Qwen3 8B's architecture; it ships as Q1_0 everywhere (1,151,820,864-byte GGUF, PrismML). " +
            "Mixtral reads only its active parameters per token. `inspect --config NAME` lists each preset's published figures beside these.[/]");
    }

    /// <summary>Scans every tensor for NaN/±Inf (part of reading the file); any found is an error unless allowed.</summary>
    private static void ReportNonFinite(Checkpoint checkpoint, bool allow)
    {
        var bad = checkpoint.Tensors.Values.Select(t => (t.Name, Count: NonFinite.Count(t))).Where(x => x.Count > 0).ToList();
        if (bad.Count == 0)
        {
            AnsiConsole.MarkupLine("non-finite values: none (every tensor checked)");
            return;
        }
        string list = string.Join(", ", bad.Take(8).Select(b => $"{b.Name} ({b.Count:N0})")) + (bad.Count > 8 ? ", ..." : "");
        string message = $"{checkpoint.Path}: {bad.Count} tensor(s) hold non-finite values (NaN or ±Inf): {list}";
        if (!allow) throw new InvalidDataException(message);
        AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");
    }

    private static void PrintOnDisk(Checkpoint checkpoint)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"On disk ({checkpoint.Kind})")
            .AddColumn("tensor").AddColumn("format").AddColumn("shape").AddColumn(new TableColumn("bytes").RightAligned())
            .AddColumn(new TableColumn("bits/weight").RightAligned());
        // GGUF: list the file's own tensors (GGUF names, ggml types, rope_freqs included); else the checkpoint's.
        var tensors = checkpoint is GgufCheckpoint g
            ? g.File.Tensors.Select(t => (t.Name, t.Format, t.Shape, t.ByteLength, t.Elements)).ToList()
            : checkpoint.Tensors.Values.Select(t => (t.Name, t.Format, t.Shape, t.ByteLength, t.Elements)).ToList();
        bool summarise = tensors.Count > 40;
        static bool LaterLayer(string n) => (n.StartsWith("model.layers.", StringComparison.Ordinal) && !n.StartsWith("model.layers.0.", StringComparison.Ordinal))
                                            || (n.StartsWith("blk.", StringComparison.Ordinal) && !n.StartsWith("blk.0.", StringComparison.Ordinal));
        foreach (var t in summarise ? tensors.Where(t => !LaterLayer(t.Name)) : tensors)
            table.AddRow(Markup.Escape(t.Name), Markup.Escape(t.Format.Name), Markup.Escape($"[{string.Join(", ", t.Shape)}]"),
                $"{t.ByteLength:N0}", $"{8.0 * t.ByteLength / t.Elements:F3}");
        if (summarise) table.AddRow("…", "", $"layers 1–{checkpoint.Config.NumLayers - 1} as layer 0", "", "");
        long bytes = tensors.Sum(t => t.ByteLength), elements = tensors.Sum(t => t.Elements);
        table.AddRow("[bold]total[/]", Markup.Escape(string.Join(", ", tensors.GroupBy(t => t.Format.Name).Select(x => $"{x.Key}×{x.Count()}"))),
            $"{elements:N0} weights", $"[bold]{bytes:N0}[/]", $"{8.0 * bytes / elements:F3}");
        AnsiConsole.Write(table);
        long fileBytes = CheckpointOpener.FileBytes(checkpoint.Path);
        AnsiConsole.MarkupLine($"tensor data {bytes:N0} bytes = {bytes / 1e9:F3} GB ({bytes / (double)(1L << 30):F3} GiB); files on disk {fileBytes:N0} bytes " +
            $"({fileBytes / (double)(1L << 30):F3} GiB)");
        if (checkpoint is GgufCheckpoint gg)
        {
            var f = gg.File;
            string fileType = f.TryGetUInt32("general.file_type") is uint ft ? ft.ToString() : "absent";
            string qv = f.TryGetUInt32("general.quantization_version") is uint v ? v.ToString() : "absent";
            AnsiConsole.MarkupLine($"GGUF v{f.Version} · alignment {f.Alignment} · general.file_type {fileType} · general.quantization_version {qv} · " +
                $"header (metadata, tokenizer) and padding {fileBytes - bytes:N0} bytes");
            // Written by `compress quantize --method`: how the weights were made.
            if (f.TryGetString("compression.method") is { } method)
                AnsiConsole.MarkupLine(Markup.Escape($"compression.method {method} · compression.calibration {f.TryGetString("compression.calibration") ?? "absent"}"));
        }
    }
}
