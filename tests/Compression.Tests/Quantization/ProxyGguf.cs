// ProxyGguf: the shipped trained proxy (rows of 256 and 768, so llama.cpp's 256-weight super-blocks apply, which the
// 128-wide tiny fixture's do not) as an f32 GGUF, written once per test run and shared by the tests that need it.
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Quantization;

namespace Compression.Tests.Quantization;

internal static class ProxyGguf
{
    private static readonly Lazy<string> F32Path = new(WriteF32);

    /// <summary>experiments/models/proxy-llama in the repository this test build came from.</summary>
    public static string Directory
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Compression.sln")))
                    return Path.Combine(d.FullName, "experiments", "models", "proxy-llama");
            throw new DirectoryNotFoundException("repository root (Compression.sln) not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The proxy's weights as float32 in llama.cpp's layout (Q/K rows permuted), with its tokenizer.</summary>
    public static string F32 => F32Path.Value;

    private static string WriteF32()
    {
        string path = Path.Combine(TestPaths.NewTempDir("proxy-f32"), "proxy-f32.gguf");
        using var input = CheckpointOpener.Open(Directory);
        GgufExporter.Write(input, input.LoadTokenizerData(), (_, _) => FormatRegistry.F32, path);
        return path;
    }
}
