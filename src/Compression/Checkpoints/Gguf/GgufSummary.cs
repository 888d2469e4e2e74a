// GgufSummary: what another engine's GGUF is — config, tokenizer, bytes and tensor types — even when its tensors are in
// types only llama.cpp computes with (k-quants, i-quants), so such files can be evaluated and sized like the workbench's.
using Compression.Model;
using Compression.Model.Families;
using Compression.Tokenization;

namespace Compression.Checkpoints.Gguf;

/// <summary>
/// The metadata of a llama GGUF file, read with <see cref="GgufFile.OpenMetadata"/>: the config and tokenizer as
/// <see cref="GgufCheckpoint"/> reads them, the bytes of all tensor data and the ggml type of every tensor.
/// </summary>
public sealed record GgufSummary(string Path, LlamaConfig Config, TokenizerData? Tokenizer, long TensorBytes,
    IReadOnlyDictionary<string, int> TensorsPerType)
{
    /// <summary>Bits per weight over the model's parameter count (<see cref="LlamaTensorLayout.ParameterCount"/>), from the bytes.</summary>
    public double BitsPerWeight => 8.0 * TensorBytes / Math.Max(1, LlamaTensorLayout.ParameterCount(Config));

    /// <summary>The ggml type most tensors have (ties: alphabetical): the file's format label ("q4_K").</summary>
    public string MainType => TensorsPerType.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First().Key;

    /// <summary>Reads <paramref name="path"/>; every problem is an <see cref="InvalidDataException"/> naming the file.</summary>
    public static GgufSummary Read(string path)
    {
        using var file = GgufFile.OpenMetadata(path);
        string arch = file.TryGetString("general.architecture") ?? throw new InvalidDataException($"{path}: general.architecture is missing");
        if (!ModelFamilies.IsGgufArchitecture(arch))
            throw new InvalidDataException($"{path}: architecture '{arch}' is not supported; supported: {ModelFamilies.SupportedGgufArchitectures}");
        var config = GgufCheckpoint.ReadConfig(file, arch);
        var tokenizer = GgufTokenizer.Read(file);
        var types = file.Tensors.Where(t => t.Name != GgufTensorNames.RopeFrequencies).Select(t => GgmlTypes.Name(t.GgmlType) ?? t.GgmlType.ToString())
            .Concat(file.ForeignTensors.Select(t => GgmlTypes.Name(t.GgmlType) ?? t.GgmlType.ToString()))
            .GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        long bytes = file.Tensors.Where(t => t.Name != GgufTensorNames.RopeFrequencies).Sum(t => t.ByteLength) + file.ForeignTensors.Sum(t => t.ByteLength);
        return new GgufSummary(path, config, tokenizer, bytes, types);
    }
}
