// GptqExporter: a Hugging Face checkpoint folder in the GPTQ layout (model.safetensors + config.json with
// quantization_config + quantize_config.json + tokenizer), quantized by round-to-nearest or holding the codes a
// calibrated method already made in GptqFormat, one tensor at a time.
using Compression.Quantization.Formats;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Compression.Checkpoints;
using Compression.Export.Onnx;
using Compression.IO;
using Compression.Model;
using Compression.Quantization;
using Compression.Tokenization;

namespace Compression.Export.HfGptq;

/// <summary>Options of <see cref="GptqExporter.Write"/>.</summary>
public sealed record GptqOptions
{
    /// <summary>4 or 8.</summary>
    public int Bits { get; init; } = 4;
    /// <summary>32, 64 or 128, or −1: one group per row (the reference GPTQ's default).</summary>
    public int GroupSize { get; init; } = 128;
    /// <summary>Symmetric groups (zero point 2^(bits−1)) — what GPTQ kernels (exllama, Marlin) run; asymmetric is sym=false.</summary>
    public bool Symmetric { get; init; } = true;
    /// <summary>Quantize lm_head too (quantize_config <c>lm_head: true</c>, which vLLM reads); default kept in fp16.</summary>
    public bool QuantizeLmHead { get; init; }
    /// <summary>The method that made the codes ("rtn", or "gptq" when the input serves them in <see cref="GptqFormat"/>).</summary>
    public string Method { get; init; } = "rtn";
    /// <summary>The calibration set of a calibrated method (<c>CalibrationSpec.Label</c>), recorded beside the method.</summary>
    public string? Calibration { get; init; }
    /// <summary>GPTQ's dampening (fraction of the mean Hessian diagonal), recorded as damp_percent.</summary>
    public double DampPercent { get; init; } = 0.01;

    /// <summary>The group length of a linear of <paramref name="cols"/> inputs (the whole row for −1).</summary>
    public int Group(long cols) => GroupSize == -1 ? checked((int)cols) : GroupSize;

    /// <summary>
    /// The per-tensor formats a calibrated method must produce for this export: the block linears (and the LM head when
    /// quantized) in <see cref="GptqFormat"/> with this grid; per row (−1) each distinct row length gets its own format,
    /// named by tensor so the default policy's single format does not split a longer row (down_proj) into groups.
    /// </summary>
    public QuantizationPolicy Policy(LlamaConfig config)
    {
        var specs = LlamaTensorLayout.Expected(config).Where(s => s.IsLinear || (s.Role == TensorRole.LmHead && QuantizeLmHead)).ToList();
        var formats = specs.Select(s => s.Shape[1]).Distinct().ToDictionary(k => k, k => new GptqFormat(Bits, Group(k), Symmetric));
        var policy = QuantizationPolicy.Default(formats[config.HiddenSize]) with { QuantizeLmHead = QuantizeLmHead };
        if (GroupSize != -1) return policy;
        return policy with
        {
            Overrides = specs.Where(s => s.Shape[1] != config.HiddenSize)
                .Select(s => (new System.Text.RegularExpressions.Regex($"^{System.Text.RegularExpressions.Regex.Escape(s.Name)}$"), (TensorFormat)formats[s.Shape[1]]))
                .ToList(),
        };
    }
}

public sealed record GptqExportResult(string Directory, int QuantizedTensors, long FileBytes);

public static class GptqExporter
{
    public const string WeightsFileName = "model.safetensors";

    /// <summary>
    /// Writes <paramref name="input"/> to <paramref name="outDir"/>: the block linears (and lm_head on request) as GPTQ
    /// qweight/qzeros/scales/g_idx, every other tensor in fp16 (GPTQ checkpoints are fp16 models). A linear the input
    /// stores in the requested <see cref="GptqFormat"/> (a calibrated GPTQ run served by a <c>CalibratedCheckpoint</c>, or
    /// a GPTQ checkpoint) is written with its own codes, scales and zeros; any other is quantized by <see cref="GptqRtn"/>.
    /// Memory holds one linear's codes at a time. The folder appears only when complete.
    /// </summary>
    public static GptqExportResult Write(Checkpoint input, GptqOptions options, string outDir,
        IProgress<OnnxExportProgress>? progress = null, CancellationToken ct = default)
    {
        if (options.Bits is not (4 or 8)) throw new ArgumentException($"GPTQ bits {options.Bits}: export writes 4 or 8");
        if (options.GroupSize is not (32 or 64 or 128 or -1)) throw new ArgumentException($"GPTQ group size {options.GroupSize}: use 32, 64, 128 or -1 (per row)");
        var c = input.Config;
        var specs = LlamaTensorLayout.Expected(c);
        bool Quantized(TensorSpec s) => s.IsLinear || (s.Role == TensorRole.LmHead && options.QuantizeLmHead);
        foreach (var s in specs.Where(Quantized))
        {
            if (s.Shape[1] % options.Group(s.Shape[1]) != 0 || s.Shape[1] % 32 != 0)
                throw new ArgumentException($"{s.Name}: {s.Shape[1]} input features are not a multiple of the group size {options.GroupSize}");
            if (s.Shape[0] % (32 / options.Bits) != 0)
                throw new ArgumentException($"{s.Name}: {s.Shape[0]} output features are not a multiple of {32 / options.Bits} (GPTQ packs zero points in int32)");
        }

        var layout = new List<RawTensor>();
        foreach (var s in specs)
        {
            if (!Quantized(s)) { layout.Add(new(s.Name, "F16", s.Shape)); continue; }
            string p = s.Name[..^".weight".Length];
            long n = s.Shape[0], k = s.Shape[1], groups = k / options.Group(k), per = 32 / options.Bits;
            layout.Add(new($"{p}.qweight", "I32", [k / per, n]));
            layout.Add(new($"{p}.qzeros", "I32", [groups, n / per]));
            layout.Add(new($"{p}.scales", "F16", [groups, n]));
            layout.Add(new($"{p}.g_idx", "I32", [k]));
        }

        string full = Path.GetFullPath(outDir);
        string tmp = $"{full}.{Guid.NewGuid():N}{AtomicFile.TempSuffix}";
        Directory.CreateDirectory(tmp);
        try
        {
            int done = 0, quantized = 0;
            (int[] W, int[] Z, Half[] S, int[] G)? pending = null; // the four tensors of the linear being written
            using (var fs = new FileStream(Path.Combine(tmp, WeightsFileName), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                RawSafetensors.Write(fs, layout, new Dictionary<string, string> { ["format"] = "pt" }, (t, s) =>
                {
                    ct.ThrowIfCancellationRequested();
                    if (t.Dtype == "F16" && !t.Name.EndsWith(".scales", StringComparison.Ordinal))
                    {
                        progress?.Report(new OnnxExportProgress(done++, specs.Count, t.Name));
                        WriteF16(input[t.Name], s);
                        return;
                    }
                    if (t.Name.EndsWith(".qweight", StringComparison.Ordinal))
                    {
                        string name = t.Name[..^".qweight".Length] + ".weight";
                        progress?.Report(new OnnxExportProgress(done++, specs.Count, name));
                        pending = Quantize(input[name], options);
                        quantized++;
                    }
                    var (w, z, sc, g) = pending!.Value;
                    if (t.Name.EndsWith(".qweight", StringComparison.Ordinal)) s.Write(MemoryMarshal.AsBytes(w.AsSpan()));
                    else if (t.Name.EndsWith(".qzeros", StringComparison.Ordinal)) s.Write(MemoryMarshal.AsBytes(z.AsSpan()));
                    else if (t.Name.EndsWith(".scales", StringComparison.Ordinal)) s.Write(MemoryMarshal.AsBytes(sc.AsSpan()));
                    else { s.Write(MemoryMarshal.AsBytes(g.AsSpan())); pending = null; }
                });
                fs.Flush(flushToDisk: true);
            }
            File.WriteAllText(Path.Combine(tmp, "config.json"), ConfigJson(input, options));
            File.WriteAllText(Path.Combine(tmp, "quantize_config.json"), QuantizeConfig(options).ToJsonString(Indented));
            CopyTokenizer(input, tmp);
            long bytes = new FileInfo(Path.Combine(tmp, WeightsFileName)).Length;
            if (Directory.Exists(full))
            {
                if (Directory.EnumerateFileSystemEntries(full).Any() && !File.Exists(Path.Combine(full, "quantize_config.json")))
                    throw new ArgumentException($"--out {full}: the folder exists and is not an earlier GPTQ export; choose an empty or new folder");
                Directory.Delete(full, recursive: true);
            }
            Directory.Move(tmp, full);
            return new GptqExportResult(full, quantized, bytes);
        }
        catch
        {
            try { Directory.Delete(tmp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// The codes of one linear — its own when stored in the requested grid, else round-to-nearest of its values — packed
    /// as qweight, qzeros, scales and g_idx.
    /// </summary>
    internal static (int[] W, int[] Z, Half[] S, int[] G) Quantize(StoredTensor stored, GptqOptions o)
    {
        int n = checked((int)stored.Rows), k = checked((int)stored.Cols), group = o.Group(k), groups = k / group;
        var codes = new byte[(long)n * k];
        var scales = new Half[(long)n * groups];
        var zeros = new byte[(long)n * groups];
        if (stored.Format is GptqFormat f && f.Bits == o.Bits && f.GroupSize == group && f.Symmetric == o.Symmetric)
        {
            // Already on the checkpoint's grid: copy, never re-round (GPTQ's error feedback was computed against these codes).
            for (int r = 0; r < n; r++)
            {
                var row = stored.Row(r);
                for (int g = 0; g < groups; g++)
                    f.Unpack(row.Slice(g * f.BytesPerBlock, f.BytesPerBlock), codes.AsSpan(r * k + g * group, group),
                        out scales[r * groups + g], out zeros[r * groups + g]);
            }
        }
        else if (o.Method != "rtn")
            throw new InvalidOperationException($"{stored.Name}: the {o.Method} codes should arrive as {new GptqFormat(o.Bits, group, o.Symmetric).Name}, not {stored.Format.Name}");
        else
            Parallel.For(0, n, () => new float[k], (r, _, row) =>
            {
                stored.ReadRows(r, 1, row);
                GptqRtn.QuantizeRow(row, o.Bits, group, o.Symmetric, codes.AsSpan(r * k, k), scales.AsSpan(r * groups, groups), zeros.AsSpan(r * groups, groups));
                return row;
            }, _ => { });
        return (GptqPacking.PackWeight(codes, n, k, o.Bits), GptqPacking.PackZeros(zeros, n, groups, o.Bits),
                GptqPacking.TransposeScales(scales, n, groups), GptqPacking.GroupIndex(k, group));
    }

    private static void WriteF16(StoredTensor stored, Stream s)
    {
        int cols = checked((int)stored.Cols);
        var row = new float[cols];
        var half = new Half[cols];
        for (long r = 0; r < stored.Rows; r++)
        {
            stored.ReadRows(r, 1, row);
            for (int i = 0; i < cols; i++) half[i] = (Half)row[i];
            s.Write(MemoryMarshal.AsBytes(half.AsSpan()));
        }
    }

    internal static JsonObject QuantizeConfig(GptqOptions o) => new()
    {
        ["bits"] = o.Bits,
        ["group_size"] = o.GroupSize,
        ["damp_percent"] = o.DampPercent,
        ["desc_act"] = false,
        ["static_groups"] = false,
        ["sym"] = o.Symmetric,
        // The calibrated run observes all of a block's linears in one pass of the float block (AutoGPTQ's true_sequential false).
        ["true_sequential"] = o.Method == "rtn",
        ["lm_head"] = o.QuantizeLmHead,
        ["model_name_or_path"] = null,
        ["model_file_base_name"] = "model",
        ["quant_method"] = "gptq",
        ["checkpoint_format"] = "gptq",
        ["pack_dtype"] = "int32",
        // How the codes were made; "meta" is where GPTQModel records its quantizer, and loaders ignore it.
        ["meta"] = new JsonObject
        {
            ["quantizer"] = new JsonArray("compression"),
            ["method"] = o.Method,
            ["calibration"] = o.Calibration,
        },
    };

    /// <summary>The input's config.json (or the config a GGUF implies) with torch_dtype float16 and quantization_config.</summary>
    private static string ConfigJson(Checkpoint input, GptqOptions o)
    {
        string? path = Directory.Exists(input.Path) ? Path.Combine(input.Path, "config.json") : null;
        var config = JsonNode.Parse(path is not null && File.Exists(path) ? Compression.IO.InputFile.ReadAllText(path, Model.LlamaConfig.MaxFileBytes, "a config.json") : input.Config.ToJson())!.AsObject();
        config["torch_dtype"] = "float16";
        config["quantization_config"] = QuantizeConfig(o);
        return config.ToJsonString(Indented);
    }

    private static void CopyTokenizer(Checkpoint input, string dir)
    {
        if (Directory.Exists(input.Path))
        {
            foreach (var name in OnnxExporter.TokenizerFileNames)
            {
                string src = Path.Combine(input.Path, name);
                if (File.Exists(src)) File.Copy(src, Path.Combine(dir, name));
            }
            if (File.Exists(Path.Combine(dir, "tokenizer.json"))) return;
        }
        if (input.LoadTokenizerData() is { } data) TokenizerJson.Save(data, Path.Combine(dir, "tokenizer.json"));
    }
}
