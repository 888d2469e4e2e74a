// LlamaCppImatrixNative: the importance matrix and metadata overrides in the C layouts llama_model_quantize reads, built
// in unmanaged memory (no C++ object, no compiler), with the layout checked against the LLamaSharp build it was read from.
using System.Runtime.InteropServices;
using System.Text;
using Compression.Quantization.Calibration;
using LLama.Native;

namespace Compression.Engines.LlamaCpp;

/// <summary>
/// What <c>llama_model_quantize_params.imatrix</c> points to in mainline llama.cpp 815a2a5 (LLamaSharp 0.30.0's native
/// build). Older llama.cpp took a <c>std::unordered_map&lt;std::string, std::vector&lt;float&gt;&gt; *</c> there; 815a2a5
/// takes a plain C array, terminated by an entry whose name is null:
/// <code>struct llama_model_imatrix_data { const char * name; const float * data; size_t size; };</code>
/// Read from the shipped libllama.so (<c>objdump -d</c>, llama_model_quantize_impl): params+0x18 is loaded as the array,
/// entries are walked with a 24-byte stride while <c>[p] != 0</c>, <c>[p+8]</c> is copied as <c>[p+16]·4</c> bytes into
/// a vector keyed by <c>strlen([p])</c> bytes at <c>[p]</c>; llama.cpp then builds its own map and logs
/// "have importance matrix data with N entries". Metadata overrides (<c>kv_overrides</c>, params+0x20) are
/// <c>llama_model_kv_override</c> records of 264 bytes (tag i32 at 0, key char[128] at 4, value union at 136), ended by
/// a record whose key is empty; llama-quantize uses them to stamp <c>quantize.imatrix.*</c> into the file, and so do we.
/// Both blocks are owned here and freed on <see cref="Dispose"/> (llama.cpp copies what it keeps).
/// </summary>
public sealed class LlamaCppImatrixNative : IDisposable
{
    /// <summary>
    /// The ggml commit of the native build that was read to establish these layouts (LLamaSharp.Backend.Cpu 0.30.0 reports
    /// "815a2a591" from <c>ggml_commit()</c>; LLamaSharp's own assembly carries no version to check instead).
    /// </summary>
    public const string VerifiedCommit = "815a2a5";

    private const int KvRecordBytes = 264, KvKeyOffset = 4, KvKeyBytes = 128, KvValueOffset = 136, KvStringBytes = 128;
    private const int KvTagInt = 0, KvTagString = 3; // enum llama_model_kv_override_type: INT, FLOAT, BOOL, STR

    private readonly List<IntPtr> _blocks = [];

    /// <summary>Builds the array for <paramref name="matrix"/> and the <c>quantize.imatrix.*</c> metadata overrides.</summary>
    public LlamaCppImatrixNative(ImportanceMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        CheckLayout(LlamaCppRuntime.GgmlCommit, Marshal.SizeOf<LLamaModelQuantizeParams>(),
            (int)Marshal.OffsetOf<LLamaModelQuantizeParams>(nameof(LLamaModelQuantizeParams.imatrix)),
            (int)Marshal.OffsetOf<LLamaModelQuantizeParams>(nameof(LLamaModelQuantizeParams.kv_overrides)),
            Marshal.SizeOf<LLamaModelMetadataOverride>());
        try
        {
            Entries = matrix.Entries.Count;
            int entryBytes = 3 * IntPtr.Size; // name, data, size_t size
            Imatrix = Alloc((Entries + 1) * entryBytes); // zeroed: the last entry is the null terminator
            int i = 0;
            foreach (var (name, values) in matrix.Entries.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                IntPtr entry = Imatrix + i++ * entryBytes;
                IntPtr data = Alloc(values.Length * sizeof(float));
                Marshal.Copy(values, 0, data, values.Length);
                Marshal.WriteIntPtr(entry, 0, Utf8(name));
                Marshal.WriteIntPtr(entry, IntPtr.Size, data);
                Marshal.WriteIntPtr(entry, 2 * IntPtr.Size, (IntPtr)values.Length);
            }

            // llama-quantize's keys (LLM_KV_QUANTIZE_IMATRIX_*): integer overrides are written as u32.
            var overrides = new (string Key, object Value)[]
            {
                ("quantize.imatrix.file", "compress (workbench forward)"),
                ("quantize.imatrix.dataset", matrix.Dataset),
                ("quantize.imatrix.entries_count", (long)Entries),
                ("quantize.imatrix.chunks_count", (long)matrix.Chunks),
            };
            KvOverrides = Alloc((overrides.Length + 1) * KvRecordBytes);
            for (int k = 0; k < overrides.Length; k++)
            {
                IntPtr record = KvOverrides + k * KvRecordBytes;
                WriteFixed(record + KvKeyOffset, overrides[k].Key, KvKeyBytes);
                if (overrides[k].Value is string s)
                {
                    Marshal.WriteInt32(record, KvTagString);
                    WriteFixed(record + KvValueOffset, s, KvStringBytes);
                }
                else
                {
                    Marshal.WriteInt32(record, KvTagInt);
                    Marshal.WriteInt64(record + KvValueOffset, (long)overrides[k].Value);
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The null-terminated <c>llama_model_imatrix_data</c> array (for <c>params.imatrix</c>).</summary>
    public IntPtr Imatrix { get; }

    /// <summary>The <c>llama_model_kv_override</c> array (for <c>params.kv_overrides</c>).</summary>
    public IntPtr KvOverrides { get; }

    /// <summary>Entries in <see cref="Imatrix"/>: llama.cpp logs this number back when it takes the matrix.</summary>
    public int Entries { get; }

    /// <summary>
    /// Refuses to hand llama.cpp pointers it would read differently: the loaded native build must be the one that was read
    /// (<see cref="VerifiedCommit"/>; older llama.cpp read a C++ map at the same place and would crash on this array), and
    /// LLamaSharp's managed mirror of the params struct must put <c>imatrix</c> and <c>kv_overrides</c> where that build
    /// reads them. A mismatch is a <see cref="NotSupportedException"/>, before any pointer is passed.
    /// </summary>
    public static void CheckLayout(string? ggmlCommit, int paramsBytes, int imatrixOffset, int kvOverridesOffset, int kvRecordBytes)
    {
        string? why =
            ggmlCommit is null || !ggmlCommit.StartsWith(VerifiedCommit, StringComparison.OrdinalIgnoreCase)
                ? $"its ggml commit is {ggmlCommit ?? "unknown"}, not the {VerifiedCommit} build whose quantizer was checked (LLamaSharp.Backend.Cpu 0.30.0)"
            : IntPtr.Size != 8 ? "only 64-bit processes were checked"
            : paramsBytes != 56 || imatrixOffset != 24 || kvOverridesOffset != 32
                ? $"llama_model_quantize_params is {paramsBytes} bytes with imatrix at {imatrixOffset} and kv_overrides at {kvOverridesOffset} (expected 56, 24, 32)"
            : kvRecordBytes != KvRecordBytes ? $"llama_model_kv_override is {kvRecordBytes} bytes (expected {KvRecordBytes})"
            : null;
        if (why is not null)
            throw new NotSupportedException($"{LlamaCppRuntime.EngineName}: cannot pass an importance matrix to this native library: {why}");
    }

    private IntPtr Alloc(int bytes)
    {
        IntPtr p = Marshal.AllocHGlobal(Math.Max(1, bytes));
        _blocks.Add(p);
        Marshal.Copy(new byte[Math.Max(1, bytes)], 0, p, Math.Max(1, bytes));
        return p;
    }

    private IntPtr Utf8(string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        IntPtr p = Alloc(bytes.Length + 1);
        Marshal.Copy(bytes, 0, p, bytes.Length);
        return p;
    }

    /// <summary>Writes <paramref name="s"/> as UTF-8 into a zeroed char[<paramref name="capacity"/>], cut to leave its NUL.</summary>
    private static void WriteFixed(IntPtr at, string s, int capacity)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        int n = Math.Min(bytes.Length, capacity - 1);
        while (n > 0 && n < bytes.Length && (bytes[n] & 0xC0) == 0x80) n--; // do not split a UTF-8 sequence
        Marshal.Copy(bytes, 0, at, n);
    }

    public void Dispose()
    {
        foreach (var p in _blocks) Marshal.FreeHGlobal(p);
        _blocks.Clear();
    }
}
