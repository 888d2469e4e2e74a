// LlamaCppQuantizer: llama.cpp's own file types (Q4_K_M, Q5_K_M, IQ4_XS …) made by mainline's quantizer, so the
// workbench's formats can be compared with them on the same tasks — written atomically like every other output.
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.IO;
using Compression.Quantization;
using LLama.Native;

namespace Compression.Engines.LlamaCpp;

/// <summary>One llama.cpp file type: its llama-quantize name, its ftype code, and whether it needs an importance matrix.</summary>
public sealed record LlamaCppFileType(string Name, LLamaFtype Code, bool NeedsImatrix = false);

/// <summary>What a llama.cpp quantization wrote: the file, its real size and the ggml type of its tensors.</summary>
public sealed record LlamaCppQuantizeResult(string Path, LlamaCppFileType FileType, long FileBytes, GgufSummary Summary);

/// <summary>Runs <c>llama_model_quantize</c> (llama-quantize's library call) on a float GGUF.</summary>
public static class LlamaCppQuantizer
{
    /// <summary>
    /// The file types <c>compress quantize --engine llama.cpp</c> offers, in llama-quantize's spelling. Types llama-quantize
    /// refuses without an importance matrix (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, Q2_K_S) are listed as needing one.
    /// </summary>
    public static IReadOnlyList<LlamaCppFileType> FileTypes { get; } =
    [
        new("F32", LLamaFtype.ALL_F32), new("F16", LLamaFtype.MOSTLY_F16), new("BF16", LLamaFtype.MOSTLY_BF16),
        new("Q8_0", LLamaFtype.MOSTLY_Q8_0), new("Q6_K", LLamaFtype.MOSTLY_Q6_K),
        new("Q5_K_M", LLamaFtype.MOSTLY_Q5_K_M), new("Q5_K_S", LLamaFtype.MOSTLY_Q5_K_S), new("Q5_1", LLamaFtype.MOSTLY_Q5_1), new("Q5_0", LLamaFtype.MOSTLY_Q5_0),
        new("Q4_K_M", LLamaFtype.MOSTLY_Q4_K_M), new("Q4_K_S", LLamaFtype.MOSTLY_Q4_K_S), new("Q4_1", LLamaFtype.MOSTLY_Q4_1), new("Q4_0", LLamaFtype.MOSTLY_Q4_0),
        new("IQ4_NL", LLamaFtype.MOSTLY_IQ4_NL), new("IQ4_XS", LLamaFtype.MOSTLY_IQ4_XS),
        new("Q3_K_L", LLamaFtype.MOSTLY_Q3_K_L), new("Q3_K_M", LLamaFtype.MOSTLY_Q3_K_M), new("Q3_K_S", LLamaFtype.MOSTLY_Q3_K_S),
        new("IQ3_M", LLamaFtype.MOSTLY_IQ3_M), new("IQ3_S", LLamaFtype.MOSTLY_IQ3_S), new("IQ3_XXS", LLamaFtype.MOSTLY_IQ3_XXS),
        new("Q2_K", LLamaFtype.MOSTLY_Q2_K), new("Q2_K_S", LLamaFtype.MOSTLY_Q2_K_S, NeedsImatrix: true),
        new("IQ2_M", LLamaFtype.MOSTLY_IQ2_M), new("IQ2_S", LLamaFtype.MOSTLY_IQ2_S, NeedsImatrix: true),
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
    /// </summary>
    public static LlamaCppQuantizeResult Quantize(string input, LlamaCppFileType fileType, string output, bool pure = false, int threads = 0,
        CancellationToken ct = default)
    {
        if (fileType.NeedsImatrix)
            // llama_model_quantize takes the matrix only as a pointer to a C++ std::unordered_map (llama-quantize builds it
            // from llama-imatrix's file), which cannot be made from C#.
            throw new NotSupportedException($"{LlamaCppRuntime.EngineName}: {fileType.Name} needs an importance matrix, which llama.cpp's library " +
                "accepts only as a C++ object (use llama-imatrix and llama-quantize --imatrix); pick a type that does not " +
                "(Q2_K, IQ2_M, IQ3_XXS, Q3_K_M, IQ4_XS, Q4_K_M …)");
        if (!File.Exists(input) && !Directory.Exists(input)) throw new FileNotFoundException($"{input} does not exist", input);
        string full = OutputFile.Prepare(output);
        if (File.Exists(input) && string.Equals(Path.GetFullPath(input), full, StringComparison.Ordinal))
            throw new ArgumentException($"--out {output}: the output would replace the input checkpoint");
        LlamaCppRuntime.EnsureLoaded(); // the quantizer is a plain native call: the library must be loaded first

        string? floatCopy = null;
        string tmp = OutputFile.TempFor(full);
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
            ct.ThrowIfCancellationRequested();
            var p = LLamaModelQuantizeParams.Default();
            p.ftype = fileType.Code;
            p.nthread = threads > 0 ? threads : Environment.ProcessorCount;
            p.pure = pure;
            p.quantize_output_tensor = true;
            p.allow_requantize = false;
            LlamaCppRuntime.ClearLog();
            uint status = NativeApi.llama_model_quantize(source, tmp, ref p);
            if (status != 0 || !File.Exists(tmp))
            {
                string why = LlamaCppRuntime.RecentErrors();
                throw new InvalidDataException($"{LlamaCppRuntime.EngineName} cannot quantize {input} to {fileType.Name}: {(why.Length > 0 ? why : $"status {status}")}");
            }
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
        return new LlamaCppQuantizeResult(full, fileType, new FileInfo(full).Length, GgufSummary.Read(full));
    }

    private static bool IsGguf(string path)
    {
        if (!File.Exists(path)) return false;
        Span<byte> head = stackalloc byte[4];
        using var f = File.OpenRead(path);
        return f.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && head.SequenceEqual("GGUF"u8);
    }
}
