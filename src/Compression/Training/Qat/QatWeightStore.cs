// QatWeightStore: a QAT checkpoint keeps the master weights as the model's model.safetensors (so the folder opens as an
// ordinary HF checkpoint) and learned block scales, which are no tensor of the model, beside it in block_scales.safetensors.
using static TorchSharp.torch;

namespace Compression.Training.Qat;

/// <summary>
/// Splits a student's parameters between two safetensors files: every "NAME.weight_scale" (a learned scale per block of
/// NAME.weight, <see cref="LearnedScale"/>) into <see cref="ScalesFileName"/>, everything else into model.safetensors.
/// A run with the format's own scales has none and writes no second file.
/// </summary>
public sealed class QatWeightStore : ITrainingWeightStore
{
    public const string ScalesFileName = "block_scales.safetensors";
    /// <summary>The name of a weight's learned scales: "model.layers.0.mlp.up_proj.weight" → "….weight_scale".</summary>
    public static string ScaleName(string weightName) => weightName + "_scale";

    private readonly SafetensorsWeightStore _weights = new();
    private readonly SafetensorsWeightStore _scales = new(ScalesFileName);

    public void Write(string directory, IReadOnlyList<(string Name, Tensor Tensor)> weights)
    {
        _weights.Write(directory, weights.Where(w => !IsScale(w.Name)).ToList());
        var scales = weights.Where(w => IsScale(w.Name)).ToList();
        if (scales.Count > 0) _scales.Write(directory, scales);
    }

    public void ReadInto(string directory, IReadOnlyDictionary<string, Tensor> destination)
    {
        _weights.ReadInto(directory, destination.Where(d => !IsScale(d.Key)).ToDictionary());
        var scales = destination.Where(d => IsScale(d.Key)).ToDictionary();
        if (scales.Count > 0) _scales.ReadInto(directory, scales);
    }

    private static bool IsScale(string name) => name.EndsWith(".weight_scale", StringComparison.Ordinal);
}
