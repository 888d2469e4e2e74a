// CheckpointOpener: PATH is a Hugging Face checkpoint directory (or .safetensors file) or a .gguf file, everywhere.
using Compression.Checkpoints.Gguf;
using Compression.Checkpoints.Safetensors;
using Compression.IO;

namespace Compression.Checkpoints;

public static class CheckpointOpener
{
    /// <summary>Opens a checkpoint directory, a .safetensors / index .json file, or a .gguf file.</summary>
    public static Checkpoint Open(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("the model path is empty");
        // An ONNX Runtime GenAI folder (compress export --to onnx) is a graph, not weights the workbench assembles a model from.
        if (Directory.Exists(path) && (File.Exists(Path.Combine(path, "genai_config.json")) || File.Exists(Path.Combine(path, "model.onnx"))))
            throw new NotSupportedException($"{path}: an ONNX Runtime model folder (genai_config.json + model.onnx); only ONNX Runtime runs it: use --engine onnxruntime");
        if (Directory.Exists(path)) return Gptq.GptqCheckpoint.IsGptq(path) ? Gptq.GptqCheckpoint.Open(path) : SafetensorsCheckpoint.Open(path);
        if (!File.Exists(path) && new FileInfo(path).LinkTarget is null)
            throw new FileNotFoundException($"{path}: no such checkpoint (expected a Hugging Face checkpoint directory or a .gguf file)", path);
        // Follows symlinks (the hub cache); refuses empty and special files (/dev/null, pipes) before opening them.
        InputFile.CheckReadable(path, long.MaxValue, "a checkpoint (a Hugging Face checkpoint directory, a .safetensors file or a .gguf file)");
        if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || LooksLikeGguf(path)) return GgufCheckpoint.Open(path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return SafetensorsCheckpoint.Open(path);
        throw new InvalidDataException(
            $"{path}: not a checkpoint: no GGUF magic, and not a .safetensors or .index.json file (expected a Hugging Face checkpoint directory, a .safetensors file or a .gguf file)");
    }

    /// <summary>Bytes of the files that make up the checkpoint at <paramref name="path"/> (weights, config, tokenizer).</summary>
    public static long FileBytes(string path)
    {
        if (File.Exists(path)) return InputFile.Length(path);
        if (!Directory.Exists(path)) return 0;
        // Sized through symlinks: in the hub cache every file is a link into blobs/.
        return Directory.EnumerateFiles(path)
            .Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .Sum(f => File.Exists(f) ? InputFile.Length(f) : 0);
    }

    private static bool LooksLikeGguf(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return stream.Read(magic) == 4 && magic.SequenceEqual("GGUF"u8);
    }
}
