// TorchSharpWeightStore: weights as one file in TorchSharp's own tensor serialisation (exact, any dtype).
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Training;

/// <summary>
/// Stores the weights in <c>model.weights.bin</c>: a magic string, the tensor count, then per tensor its HF
/// name and TorchSharp's <c>Tensor.Save</c> record (dtype, shape, raw bytes). Bit-exact, so resumed
/// training continues the same curve.
/// </summary>
public sealed class TorchSharpWeightStore : ITrainingWeightStore
{
    /// <summary>Name of the weight file inside a checkpoint directory.</summary>
    public const string FileName = "model.weights.bin";
    private const string Magic = "compression-weights-v1";

    public void Write(string directory, IReadOnlyList<(string Name, Tensor Tensor)> weights)
    {
        using var stream = File.Create(Path.Combine(directory, FileName));
        using var writer = new BinaryWriter(stream, Encoding.UTF8);
        writer.Write(Magic);
        writer.Write(weights.Count);
        foreach (var (name, t) in weights)
        {
            writer.Write(name);
            using var cpu = t.detach().cpu().contiguous();
            cpu.Save(writer);
        }
    }

    public void ReadInto(string directory, IReadOnlyDictionary<string, Tensor> destination)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: weight file is missing");
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException($"{path}: not a {Magic} file");
            int count = reader.ReadInt32();
            if (count != destination.Count)
                throw new InvalidDataException($"{path}: holds {count} tensors but the model has {destination.Count}");
            using var noGrad = no_grad();
            for (int i = 0; i < count; i++)
            {
                string name = reader.ReadString();
                if (!destination.TryGetValue(name, out var target))
                    throw new InvalidDataException($"{path}: tensor '{name}' is not a parameter of the model");
                using var loaded = Tensor.Load(reader);
                if (loaded.dtype != target.dtype || !loaded.shape.SequenceEqual(target.shape))
                    throw new InvalidDataException($"{path}: tensor '{name}' is {loaded.dtype} [{string.Join(", ", loaded.shape)}], " +
                                                   $"the model expects {target.dtype} [{string.Join(", ", target.shape)}]");
                target.copy_(loaded);
            }
        }
        catch (EndOfStreamException e) { throw new InvalidDataException($"{path}: truncated weight file", e); }
    }
}
