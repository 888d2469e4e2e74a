// GptqCheckpointReader: reads a GPTQ-layout checkpoint folder back — quantization_config, and per linear its codes,
// fp16 scales and integer zero points unpacked from qweight/qzeros/scales/g_idx; other tensors as float32.
using Compression.Quantization.Formats;
using System.Runtime.InteropServices;
using System.Text.Json;
using Compression.Checkpoints;
using Compression.Model;

namespace Compression.Export.HfGptq;

/// <summary>One linear of a GPTQ checkpoint, unpacked: codes [N, K], scales and zeros [N, groups] (row n = output feature n);
/// <see cref="GroupSize"/> is the group length (K when the checkpoint's group_size is −1).</summary>
public sealed record GptqLinear(int Rows, int Cols, int Bits, int GroupSize, byte[] Codes, Half[] Scales, byte[] Zeros)
{
    /// <summary>Row <paramref name="r"/> dequantized: w = scale·(q − zero).</summary>
    public void DequantizeRow(int r, Span<float> dst)
    {
        int groups = Cols / GroupSize;
        for (int k = 0; k < Cols; k++)
            dst[k] = GptqRtn.Dequantize(Codes[(long)r * Cols + k], Scales[r * groups + k / GroupSize], Zeros[r * groups + k / GroupSize]);
    }
}

/// <summary>An opened GPTQ checkpoint folder (single model.safetensors, <c>checkpoint_format: gptq</c>, no act-order).</summary>
public sealed class GptqCheckpointReader : IDisposable
{
    private readonly MappedFile _file;
    private readonly Dictionary<string, (string Dtype, long[] Shape, long Offset, long Length)> _tensors;

    public string Path { get; }
    public LlamaConfig Config { get; }
    public int Bits { get; }
    /// <summary>The checkpoint's group_size (−1: one group per row).</summary>
    public int GroupSize { get; }
    public bool Symmetric { get; }

    private GptqCheckpointReader(string path, LlamaConfig config, int bits, int group, bool sym, MappedFile file,
        Dictionary<string, (string, long[], long, long)> tensors)
    {
        Path = path; Config = config; Bits = bits; GroupSize = group; Symmetric = sym; _file = file; _tensors = tensors;
    }

    public static GptqCheckpointReader Open(string dir)
    {
        string configPath = System.IO.Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{dir}: no config.json (expected a GPTQ checkpoint folder)", configPath);
        string json = Compression.IO.InputFile.ReadAllText(configPath, Model.LlamaConfig.MaxFileBytes, "a config.json");
        var config = LlamaConfig.Parse(json, configPath);
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("quantization_config", out var q) || q.GetProperty("quant_method").GetString() != "gptq")
            throw new InvalidDataException($"{configPath}: no quantization_config with quant_method gptq");
        int bits = q.GetProperty("bits").GetInt32(), group = q.GetProperty("group_size").GetInt32();
        bool sym = !q.TryGetProperty("sym", out var s) || s.GetBoolean();
        if (q.TryGetProperty("desc_act", out var d) && d.GetBoolean())
            throw new NotSupportedException($"{configPath}: desc_act (activation reordering) checkpoints are not read");
        if (q.TryGetProperty("checkpoint_format", out var f) && f.GetString() is { } fmt && fmt != "gptq")
            throw new NotSupportedException($"{configPath}: checkpoint_format {fmt} is not read (only gptq)");
        if (bits is not (4 or 8)) throw new NotSupportedException($"{configPath}: {bits}-bit GPTQ is not read (4 or 8)");
        string weights = System.IO.Path.Combine(dir, GptqExporter.WeightsFileName);
        if (!File.Exists(weights)) throw new FileNotFoundException($"{dir}: no {GptqExporter.WeightsFileName}", weights);
        var (file, tensors) = RawSafetensors.Open(weights);
        return new GptqCheckpointReader(dir, config, bits, group, sym, file, tensors);
    }

    /// <summary>True when <paramref name="weightName"/> (an HF ".weight" name) is stored quantized.</summary>
    public bool IsQuantized(string weightName) => _tensors.ContainsKey(weightName[..^".weight".Length] + ".qweight");

    public GptqLinear Linear(string weightName)
    {
        string p = weightName[..^".weight".Length];
        var qw = Get($"{p}.qweight", "I32");
        var qz = Get($"{p}.qzeros", "I32");
        var sc = Get($"{p}.scales", "F16");
        var gi = Get($"{p}.g_idx", "I32");
        int per = 32 / Bits, k = checked((int)qw.Shape[0] * per), n = checked((int)qw.Shape[1]), groups = checked((int)sc.Shape[0]);
        int group = GroupSize == -1 ? k : GroupSize;
        if (groups * group != k || sc.Shape[1] != n || qz.Shape[0] != groups || qz.Shape[1] * per != n || gi.Shape[0] != k)
            throw new InvalidDataException($"{Path}: the GPTQ tensors of {p} disagree in shape with each other or with group_size {GroupSize}");
        var gIdx = MemoryMarshal.Cast<byte, int>(Bytes(gi));
        for (int i = 0; i < k; i++)
            if (gIdx[i] != i / group) throw new NotSupportedException($"{Path}: {p}.g_idx reorders columns (act-order), which is not read");
        var codes = GptqPacking.UnpackWeight(MemoryMarshal.Cast<byte, int>(Bytes(qw)), n, k, Bits);
        var zeros = GptqPacking.UnpackZeros(MemoryMarshal.Cast<byte, int>(Bytes(qz)), n, groups, Bits);
        var st = MemoryMarshal.Cast<byte, Half>(Bytes(sc));
        var scales = new Half[(long)n * groups];
        for (int g = 0; g < groups; g++)
            for (int r = 0; r < n; r++) scales[r * groups + g] = st[g * n + r];
        return new GptqLinear(n, k, Bits, group, codes, scales, zeros);
    }

    /// <summary>A tensor stored in fp16 (embedding, norms, an unquantized head) as float32.</summary>
    public float[] Dense(string name)
    {
        var t = Get(name, "F16");
        var h = MemoryMarshal.Cast<byte, Half>(Bytes(t));
        var result = new float[h.Length];
        for (int i = 0; i < h.Length; i++) result[i] = (float)h[i];
        return result;
    }

    /// <summary>An fp16 tensor as a <see cref="StoredTensor"/> read in place from the mapped file.</summary>
    public StoredTensor Fp16Tensor(string name, long[] expectedShape)
    {
        var t = Get(name, "F16");
        if (!t.Shape.SequenceEqual(expectedShape))
            throw new InvalidDataException($"{Path}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}] but the config implies [{string.Join(", ", expectedShape)}]");
        return new StoredTensor { Name = name, FileTensorName = name, Shape = t.Shape, Format = Quantization.FormatRegistry.F16, Source = _file, Offset = t.Offset };
    }

    private (string Dtype, long[] Shape, long Offset, long Length) Get(string name, string dtype)
    {
        if (!_tensors.TryGetValue(name, out var t)) throw new InvalidDataException($"{Path}: tensor '{name}' is missing");
        if (t.Dtype != dtype) throw new InvalidDataException($"{Path}: tensor '{name}' is {t.Dtype}, expected {dtype}");
        return t;
    }

    private ReadOnlySpan<byte> Bytes((string Dtype, long[] Shape, long Offset, long Length) t) => _file.Span(t.Offset, checked((int)t.Length));

    public void Dispose() => _file.Dispose();
}
