// GgmlTypes: names of ggml tensor types (for messages about types the workbench cannot read) and
// llama.cpp's general.file_type codes per format — plain tables, no format logic.
using Compression.Quantization;

namespace Compression.Checkpoints.Gguf;

/// <summary>Reference tables from ggml.h and llama.h.</summary>
public static class GgmlTypes
{
    // ggml.h enum ggml_type; gaps are ids whose support was removed (4, 5, 31-33, 36-38).
    private static readonly Dictionary<uint, string> Names = new()
    {
        [0] = "f32", [1] = "f16", [2] = "q4_0", [3] = "q4_1", [6] = "q5_0", [7] = "q5_1", [8] = "q8_0",
        [9] = "q8_1", [10] = "q2_K", [11] = "q3_K", [12] = "q4_K", [13] = "q5_K", [14] = "q6_K",
        [15] = "q8_K", [16] = "iq2_xxs", [17] = "iq2_xs", [18] = "iq3_xxs", [19] = "iq1_s",
        [20] = "iq4_nl", [21] = "iq3_s", [22] = "iq2_s", [23] = "iq4_xs", [24] = "i8", [25] = "i16",
        [26] = "i32", [27] = "i64", [28] = "f64", [29] = "iq1_m", [30] = "bf16", [34] = "tq1_0",
        [35] = "tq2_0", [39] = "mxfp4", [41] = "q1_0",
    };

    // ggml-common.h block layouts (elements per block, bytes per block) of every type a GGUF may hold, so a file in
    // types the workbench does not compute with can still be sized (q2_K: scales[16] qs[64] d dmin = 84 bytes per 256).
    private static readonly Dictionary<uint, (int Block, int Bytes)> Layouts = new()
    {
        [0] = (1, 4), [1] = (1, 2), [2] = (32, 18), [3] = (32, 20), [6] = (32, 22), [7] = (32, 24), [8] = (32, 34),
        [9] = (32, 36), [10] = (256, 84), [11] = (256, 110), [12] = (256, 144), [13] = (256, 176), [14] = (256, 210),
        [15] = (256, 292), [16] = (256, 66), [17] = (256, 74), [18] = (256, 98), [19] = (256, 50), [20] = (32, 18),
        [21] = (256, 110), [22] = (256, 82), [23] = (256, 136), [24] = (1, 1), [25] = (1, 2), [26] = (1, 4), [27] = (1, 8),
        [28] = (1, 8), [29] = (256, 56), [30] = (1, 2), [34] = (256, 54), [35] = (256, 66), [39] = (32, 17), [41] = (128, 18),
    };

    /// <summary>Elements and bytes per block of ggml type <paramref name="id"/>, or null for an id not listed.</summary>
    public static (int Block, int Bytes)? BlockLayout(uint id) => Layouts.TryGetValue(id, out var l) ? l : null;

    /// <summary>The ggml name of type <paramref name="id"/>, or null for an id ggml does not define.</summary>
    public static string? Name(uint id) => Names.GetValueOrDefault(id);

    /// <summary>"12 (q4_K)" or "99 (unknown ggml type)" — for error messages.</summary>
    public static string Describe(uint id) => $"{id} ({Name(id) ?? "unknown ggml type"})";

    // llama.h enum llama_ftype ("mostly X"), keyed by workbench format name. Formats without an entry
    // (e.g. q1_0, which llama.cpp itself has no ftype for) get no general.file_type key: llama.cpp
    // then infers it from the tensors.
    private static readonly Dictionary<string, uint> FileTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["f32"] = 0, ["f16"] = 1, ["q4_0"] = 2, ["q4_1"] = 3, ["q8_0"] = 7, ["q5_0"] = 8, ["q5_1"] = 9,
        ["q6_k"] = 18, ["bf16"] = 32, ["tq1_0"] = 36, ["tq2_0"] = 37,
    };

    /// <summary>llama.cpp's <c>LLAMA_FTYPE_*</c> code for a file mostly in <paramref name="format"/>, or null when there is none.</summary>
    public static uint? FileType(TensorFormat format) => FileTypes.TryGetValue(format.Name, out var code) ? code : null;
}
