// ITrainingWeightStore: how a training checkpoint writes and reads the model's weights (file format pluggable).
using static TorchSharp.torch;

namespace Compression.Training;

/// <summary>
/// Writes a model's weights under their Hugging Face names into a checkpoint directory and reads them back.
/// The trainer writes config.json, the optimizer and its own state itself; only the weight file format is
/// delegated (<see cref="SafetensorsWeightStore"/> by default, making the checkpoint an HF directory).
/// </summary>
public interface ITrainingWeightStore
{
    /// <summary>Writes every tensor (HF name, float tensor) into <paramref name="directory"/>, which already exists.</summary>
    void Write(string directory, IReadOnlyList<(string Name, Tensor Tensor)> weights);

    /// <summary>
    /// Copies the stored weights into <paramref name="destination"/> (HF name → parameter tensor of the
    /// right shape). Throws <see cref="InvalidDataException"/> naming the file when a tensor is missing or
    /// its shape differs.
    /// </summary>
    void ReadInto(string directory, IReadOnlyDictionary<string, Tensor> destination);
}
