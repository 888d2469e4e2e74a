// SafetensorsWeightStore: training checkpoints keep their weights as HF model.safetensors (float32).
using Compression.Checkpoints.Safetensors;
using Compression.Quantization;
using static TorchSharp.torch;

namespace Compression.Training;

/// <summary>
/// Writes the weights as a single float32 <c>model.safetensors</c> under HF names, so a checkpoint
/// directory (with the trainer's config.json) opens as a <see cref="SafetensorsCheckpoint"/> for evaluation
/// and quantization. float32 round-trips bit-exactly, so a resumed run continues the same curve.
/// </summary>
public sealed class SafetensorsWeightStore(string fileName = SafetensorsCheckpoint.SingleFileName) : ITrainingWeightStore
{
    /// <summary>The file the weights go to inside a checkpoint directory (default HF's single <c>model.safetensors</c>).</summary>
    public string FileName => fileName;

    public void Write(string directory, IReadOnlyList<(string Name, Tensor Tensor)> weights)
    {
        var declarations = weights.Select(w => new TensorDeclaration(w.Name, FormatRegistry.F32, w.Tensor.shape)).ToList();
        using var writer = new SafetensorsWriter(Path.Combine(directory, fileName), declarations);
        foreach (var (_, t) in weights)
        {
            using var scope = NewDisposeScope();
            var cpu = t.detach().to(ScalarType.Float32).cpu().contiguous();
            writer.WriteFloats(cpu.data<float>().ToArray());
        }
        writer.Complete();
    }

    public void ReadInto(string directory, IReadOnlyDictionary<string, Tensor> destination)
    {
        string path = Path.Combine(directory, fileName);
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: weight file is missing");
        using var file = SafetensorsFile.Open(path);
        var extra = file.Tensors.Keys.Where(k => !destination.ContainsKey(k)).ToList();
        if (extra.Count > 0) throw new InvalidDataException($"{path}: tensor '{extra[0]}' is not a parameter of the model");
        using var noGrad = no_grad();
        foreach (var (name, target) in destination)
        {
            if (!file.Tensors.TryGetValue(name, out var stored)) throw new InvalidDataException($"{path}: tensor '{name}' is missing");
            if (!stored.Shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{path}: tensor '{name}' has shape [{string.Join(", ", stored.Shape)}], " +
                                               $"the model expects [{string.Join(", ", target.shape)}]");
            using var scope = NewDisposeScope();
            target.copy_(tensor(stored.ToFloat32(), target.shape).to(target.dtype, target.device));
        }
    }
}
