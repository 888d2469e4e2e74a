// LlamaCppQuantizer: llama.cpp's own file types (Q4_K_M, Q5_K_M, IQ4_XS …) made by mainline's quantizer, so the
// workbench's formats can be compared with them on the same tasks — written atomically like every other output.
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.IO;
using Compression.Quantization;
using Compression.Quantization.Calibration;
using LLama.Native;
using System.Text.RegularExpressions;

namespace Compression.Engines.LlamaCpp;

/// <summary>One llama.cpp file type: its llama-quantize name, its ftype code, and whether it needs an importance matrix.</summary>
public sealed record LlamaCppFileType(string Name, LLamaFtype Code, bool NeedsImatrix = false);

/// <summary>What a llama.cpp quantization wrote: the file, its real size and the ggml type of its tensors.</summary>
public sealed record LlamaCppQuantizeResult(string Path, LlamaCppFileType FileType, long FileBytes, GgufSummary Summary)
{
    /// <summary>The importance matrix llama.cpp took, or null when none was given.</summary>
    public LlamaCppImatrixUse? Imatrix { get; init; }
}

/// <summary>
/// What llama.cpp reported about an importance matrix: the entries it loaded (its own log line, not our count), the
/// calibration it came from, and the quantized tensors it found no entry for (output.weight: llama-imatrix's default too).
/// </summary>
public sealed record LlamaCppImatrixUse(int Entries, string Dataset, long Tokens, IReadOnlyList<string> TensorsWithout);

/// <summary>Runs <c>llama_model_quantize</c> (llama-quantize's library call) on a float GGUF.</summary>
public static partial class LlamaCppQuantizer
{
    /// <summary>
    /// The file types <c>compress quantize --engine llama.cpp</c> offers, in llama-quantize's spelling. Types llama.cpp
    /// 815a2a5 refuses without an importance matrix (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ2_M, IQ3_XXS, Q2_K_S: their
    /// main tensor type is one of <c>tensor_requires_imatrix</c>'s — checked on the proxy) are listed as needing one;
    /// <see cref="Quantize"/> makes them when given an <see cref="ImportanceMatrix"/>.
    /// </summary>
    public static IReadOnlyList<LlamaCppFileType> FileTypes { get; } =
    [
        new("F32", LLamaFtype.ALL_F32), new("F16", LLamaFtype.MOSTLY_F16), new("BF16", LLamaFtype.MOSTLY_BF16),
        new("Q8_0", LLamaFtype.MOSTLY_Q8_0), new("Q6_K", LLamaFtype.MOSTLY_Q6_K),
        new("Q5_K_M", LLamaFtype.MOSTLY_Q5_K_M), new("Q5_K_S", LLamaFtype.MOSTLY_Q5_K_S), new("Q5_1", LLamaFtype.MOSTLY_Q5_1), new("Q5_0", LLamaFtype.MOSTLY_Q5_0),
        new("Q4_K_M", LLamaFtype.MOSTLY_Q4_K_M), new("Q4_K_S", LLamaFtype.MOSTLY_Q4_K_S), new("Q4_1", LLamaFtype.MOSTLY_Q4_1), new("Q4_0", LLamaFtype.MOSTLY_Q4_0),
        new("IQ4_NL", LLamaFtype.MOSTLY_IQ4_NL), new("IQ4_XS", LLamaFtype.MOSTLY_IQ4_XS),
        new("Q3_K_L", LLamaFtype.MOSTLY_Q3_K_L), new("Q3_K_M", LLamaFtype.MOSTLY_Q3_K_M), new("Q3_K_S", LLamaFtype.MOSTLY_Q3_K_S),
        new("IQ3_M", LLamaFtype.MOSTLY_IQ3_M), new("IQ3_S", LLamaFtype.MOSTLY_IQ3_S), new("IQ3_XXS", LLamaFtype.MOSTLY_IQ3_XXS, NeedsImatrix: true),
        new("Q2_K", LLamaFtype.MOSTLY_Q2_K), new("Q2_K_S", LLamaFtype.MOSTLY_Q2_K_S, NeedsImatrix: true),
        new("IQ2_M", LLamaFtype.MOSTLY_IQ2_M, NeedsImatrix: true), new("IQ2_S", LLamaFtype.MOSTLY_IQ2_S, NeedsImatrix: true),
        new("IQ2_XS", LLamaFtype.MOSTLY_IQ2_XS, NeedsImatrix: true), new("IQ2_XXS", LLamaFtype.MOSTLY_IQ2_XXS, NeedsImatrix: true),
        new("IQ1_M", LLamaFtype.MOSTLY_IQ1_M, NeedsImatrix: true), new("IQ1_S", LLamaFtype.MOSTLY_IQ1_S, NeedsImatrix: true),
        new("TQ2_0", LLamaFtype.LLAMA_FTYPE_MOSTLY_TQ2_0), new("TQ1_0", LLamaFtype.LLAMA_FTYPE_MOSTLY_TQ1_0),
        new("Q1_0", LLamaFtype.LLAMA_FTYPE_MOSTLY_Q1_0),
    ];

    /// <summary>The file type called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static LlamaCppFileType? TryGet(string name) =>
        FileTypes.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The file type called <paramref name="name"/>; an unknown name lists the known ones.</summary>
    public static LlamaCppFileType Get(string name) => TryGet(name)
        ?? throw new ArgumentException($"unknown llama.cpp file type '{name}'; known: {string.Join(", ", FileTypes.Select(t => t.Name))}");

    /// <summary>
    /// Quantizes the checkpoint at <paramref name="input"/> to <paramref name="fileType"/> and writes <paramref name="output"/>
    /// (it appears only when complete). A GGUF input goes to llama.cpp as it is; a Hugging Face folder is first written as a
    /// float32 GGUF beside the output (deleted afterwards). <paramref name="pure"/> is llama-quantize's --pure: every
    /// tensor in the one type, no k-quant mixture. llama.cpp falls back to another type per tensor whose rows are not a
    /// multiple of the type's block (256 for k-quants): the result's <see cref="GgufSummary"/> says what was written.
    /// <paramref name="imatrix"/> (llama-quantize --imatrix) weighs each column's rounding error in every type that uses
    /// one (k-quants and i-quants); types marked <see cref="LlamaCppFileType.NeedsImatrix"/> cannot be made without it.
    /// It must hold an entry of the right length for every block linear of the input; llama.cpp stamps
    /// <c>quantize.imatrix.*</c> into the file's metadata.
    /// </summary>
    public static LlamaCppQuantizeResult Quantize(string input, LlamaCppFileType fileType, string output, bool pure = false, int threads = 0,
        CancellationToken ct = default, ImportanceMatrix? imatrix = null)
    {
        if (fileType.NeedsImatrix && imatrix is null)
            throw new ArgumentException($"{LlamaCppRuntime.EngineName}: {fileType.Name} needs an importance matrix: add --calibration FILE " +
                "(text the workbench runs the model on to compute it, as llama-imatrix does)");
        if (!File.Exists(input) && !Directory.Exists(input)) throw new FileNotFoundException($"{input} does not exist", input);
        string full = OutputFile.Prepare(output);
        if (File.Exists(input) && string.Equals(Path.GetFullPath(input), full, StringComparison.Ordinal))
            throw new ArgumentException($"--out {output}: the output would replace the input checkpoint");
        LlamaCppRuntime.EnsureLoaded(); // the quantizer is a plain native call: the library must be loaded first

        string? floatCopy = null;
        string tmp = OutputFile.TempFor(full);
        LlamaCppImatrixUse? use = null;
        try
        {
            string source = input;
            if (!IsGguf(input))
            {
                floatCopy = OutputFile.TempFor(full) + ".f32.gguf";
                using var checkpoint = CheckpointOpener.Open(input);
                var tokenizer = checkpoint.LoadTokenizerData()
                    ?? throw new InvalidDataException($"{input}: the checkpoint has no tokenizer (tokenizer.json); a GGUF for llama.cpp needs one");
                GgufExporter.Write(checkpoint, tokenizer, (_, _) => FormatRegistry.F32, floatCopy, ct: ct);
                source = floatCopy;
            }
            if (imatrix is not null) CheckCoverage(input, source, imatrix);
            ct.ThrowIfCancellationRequested();
            using var native = imatrix is null ? null : new LlamaCppImatrixNative(imatrix);
            var p = LLamaModelQuantizeParams.Default();
            p.ftype = fileType.Code;
            p.nthread = threads > 0 ? threads : Environment.ProcessorCount;
            p.pure = pure;
            p.quantize_output_tensor = true;
            p.allow_requantize = false;
            if (native is not null) (p.imatrix, p.kv_overrides) = (native.Imatrix, native.KvOverrides);
            uint status;
            IReadOnlyList<string> lines;
            lock (Gate) // one quantization at a time: its importance-matrix log lines are read back below
            {
                LlamaCppRuntime.ClearLog();
                LlamaCppRuntime.ClearImatrixLines();
                status = NativeApi.llama_model_quantize(source, tmp, ref p);
                lines = LlamaCppRuntime.ImatrixLines();
            }
            if (status != 0 || !File.Exists(tmp))
            {
                string why = LlamaCppRuntime.RecentErrors();
                throw new InvalidDataException($"{LlamaCppRuntime.EngineName} cannot quantize {input} to {fileType.Name}: {(why.Length > 0 ? why : $"status {status}")}");
            }
            if (native is not null) use = Taken(input, imatrix!, native.Entries, lines);
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (OutputFile.IsWriteFailure(e))
        {
            throw OutputFile.Failure(output, e, tmp);
        }
        finally
        {
            OutputFile.TryDelete(tmp);
            OutputFile.TryDelete(floatCopy);
        }
        return new LlamaCppQuantizeResult(full, fileType, new FileInfo(full).Length, GgufSummary.Read(full)) { Imatrix = use };
    }

    private static readonly object Gate = new();

    /// <summary>
    /// The importance matrix of the checkpoint at <paramref name="model"/> (GGUF or Hugging Face folder) on the calibration
    /// text <paramref name="spec"/> names, computed with the workbench's float forward (weights not stored as float32 stay
    /// packed and mapped, as for the calibrated methods). Bad input is one line naming the file.
    /// </summary>
    public static ImportanceMatrix ComputeImatrix(string model, CalibrationSpec spec, CancellationToken ct = default)
    {
        if (!File.Exists(spec.File)) throw new FileNotFoundException($"calibration file not found: {spec.File}", spec.File);
        using var session = Compression.Inference.ModelSession.Open(model, new Compression.Inference.ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        var tokenizer = session.Tokenizer ?? throw new InvalidDataException($"{model}: the checkpoint has no tokenizer; calibration text needs one");
        var set = CalibrationSet.Load(spec, t => tokenizer.Encode(t, addBos: true));
        return ImportanceMatrix.Collect(session.Model, set.Sequences, set.Spec.Label, ct);
    }

    /// <summary>
    /// Every block linear of the file llama.cpp reads (2-D "blk.N.*.weight" tensors other than norms) needs an entry of its
    /// row length: a missing one would make llama.cpp quantize that tensor without a matrix (or refuse, for the types that
    /// need one), a wrong length aborts it. Both are an <see cref="InvalidDataException"/> naming the tensor.
    /// </summary>
    private static void CheckCoverage(string input, string gguf, ImportanceMatrix imatrix)
    {
        using var file = GgufFile.OpenMetadata(gguf);
        var tensors = file.Tensors.Select(t => (t.Name, t.Dimensions)).Concat(file.ForeignTensors.Select(t => (t.Name, t.Dimensions)));
        foreach (var (name, dims) in tensors)
        {
            if (dims.Length != 2 || !name.StartsWith("blk.", StringComparison.Ordinal) || !name.EndsWith(".weight", StringComparison.Ordinal)
                || name.Contains("_norm", StringComparison.Ordinal)) continue;
            if (!imatrix.Entries.TryGetValue(name, out var values))
                throw new InvalidDataException($"{input}: the importance matrix has no entry for {name} (it covers {imatrix.Entries.Count} tensors)");
            if (values.Length != dims[0])
                throw new InvalidDataException($"{input}: the importance matrix entry for {name} has {values.Length} values; the tensor's rows have {dims[0]}");
        }
    }

    /// <summary>What llama.cpp logged about the matrix; if it did not log taking all our entries, the native side read something else.</summary>
    private static LlamaCppImatrixUse Taken(string input, ImportanceMatrix imatrix, int given, IReadOnlyList<string> lines)
    {
        var have = lines.Select(l => HaveEntries().Match(l)).FirstOrDefault(m => m.Success);
        if (have is null || int.Parse(have.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) != given)
            throw new NotSupportedException($"{LlamaCppRuntime.EngineName}: quantizing {input}, the native library did not report taking the " +
                $"{given} importance matrix entries ({(have is null ? "no \"have importance matrix data\" line" : have.Value)}); its ABI is not the one checked");
        var without = lines.Select(l => NotFound().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
        return new LlamaCppImatrixUse(given, imatrix.Dataset, imatrix.Tokens, without);
    }

    [GeneratedRegex(@"have importance matrix data with (\d+) entries")] private static partial Regex HaveEntries();
    [GeneratedRegex(@"did not find weights for (\S+)")] private static partial Regex NotFound();

    private static bool IsGguf(string path)
    {
        if (!File.Exists(path)) return false;
        Span<byte> head = stackalloc byte[4];
        using var f = File.OpenRead(path);
        return f.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && head.SequenceEqual("GGUF"u8);
    }
}
