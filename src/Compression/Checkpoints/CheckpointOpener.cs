// CheckpointOpener: PATH is a Hugging Face checkpoint directory (or .safetensors file) or a .gguf file, everywhere.
using Compression.Checkpoints.Gguf;
using Compression.Checkpoints.Safetensors;

namespace Compression.Checkpoints;

public static class CheckpointOpener
{
    /// <summary>Opens a checkpoint directory, a .safetensors / index .json file, or a .gguf file.</summary>
    public static Checkpoint Open(string path)
    {
        if (File.Exists(path) && (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || LooksLikeGguf(path)))
            return GgufCheckpoint.Open(path);
        if (Directory.Exists(path) && Gptq.GptqCheckpoint.IsGptq(path)) return Gptq.GptqCheckpoint.Open(path);
        if (Directory.Exists(path) || File.Exists(path)) return SafetensorsCheckpoint.Open(path);
        throw new FileNotFoundException($"{path}: no such checkpoint (expected a Hugging Face checkpoint directory or a .gguf file)", path);
    }

    /// <summary>Bytes of the files that make up the checkpoint at <paramref name="path"/> (weights, config, tokenizer).</summary>
    public static long FileBytes(string path)
    {
        if (File.Exists(path)) return new FileInfo(path).Length;
        if (!Directory.Exists(path)) return 0;
        return Directory.EnumerateFiles(path)
            .Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .Sum(f => new FileInfo(f).Length);
    }

    private static bool LooksLikeGguf(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return stream.Read(magic) == 4 && magic.SequenceEqual("GGUF"u8);
    }
}
