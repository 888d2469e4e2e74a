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
        var config = new Option<string?>("--config") { Description = "config.json, a checkpoint directory, or a preset name (llama-3.1-8b, llama-3.1-70b, llama-3.2-1b, llama-3.2-3b)" };
        var path = new Argument<string?>("PATH") { Description = "A checkpoint directory or .gguf file to inspect on disk", Arity = ArgumentArity.ZeroOrOne };
        var allowNonFinite = CliOptions.AllowNonFinite();
        allowNonFinite.Description = "Report tensors holding NaN or ±Inf without failing";
        var command = new Command("inspect", "Parameters and sizes of a config (default Llama 3.1 8B), a checkpoint directory or a GGUF file");
        command.Options.Add(config);
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
            string? c = parse.GetValue(config);
            var cfg = c is null ? LlamaConfig.Llama31_8B
                : File.Exists(c) || Directory.Exists(c) ? LlamaConfig.Load(c) : LlamaConfig.Preset(c);
            PrintConfig(cfg, c ?? "llama-3.1-8b (built-in preset)");
            PrintSizes(cfg);
            return 0;
        });
        return command;
    }

    private static void PrintConfig(LlamaConfig c, string source)
    {
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(source)}[/]: hidden {c.HiddenSize} · intermediate {c.IntermediateSize} · {c.NumLayers} layers · " +
            $"{c.NumHeads} heads · {c.NumKeyValueHeads} KV heads · head_dim {c.HeadDim} · vocab {c.VocabSize} · " +
            $"{(c.TieWordEmbeddings ? "tied" : "untied")} embeddings · rope θ {c.RopeTheta:G} {(c.RopeScaling is { Kind: "llama3" } r ? $"(llama3 scaling ×{r.Factor:G})" : "")}");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("tensor group").AddColumn(new TableColumn("tensors").RightAligned())
            .AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
        var specs = LlamaTensorLayout.Expected(c);
        long total = specs.Sum(s => s.Elements);
        foreach (var g in specs.GroupBy(s => SizeAccounting.Group(s.Role)))
            table.AddRow(g.Key, g.Count().ToString(), $"{g.Sum(s => s.Elements):N0}", $"{100.0 * g.Sum(s => s.Elements) / total:F2}%");
        table.AddRow("[bold]total[/]", specs.Count.ToString(), $"[bold]{total:N0}[/]", "100%");
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
        }
    }
}
