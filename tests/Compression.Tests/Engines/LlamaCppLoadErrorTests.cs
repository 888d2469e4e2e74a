// LlamaCppLoadErrorTests: a file llama.cpp cannot load gives one clear error naming the engine and the file, not a native crash.
using Compression.Engines.LlamaCpp;

namespace Compression.Tests.Engines;

public class LlamaCppLoadErrorTests
{
    [Fact]
    public void MissingFileNamesTheEngineAndTheFile()
    {
        string path = Path.Combine(TestPaths.NewTempDir("llamacpp-missing"), "absent.gguf");
        var e = Assert.Throws<FileNotFoundException>(() => LlamaCppModel.Load(path));
        Assert.Contains("llama.cpp", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void NonGgufFileIsRefusedBeforeNativeCode()
    {
        string path = Path.Combine(TestPaths.NewTempDir("llamacpp-bad"), "config.gguf");
        File.Copy(TestPaths.TinyLlamaFile("config.json"), path);
        var e = Assert.Throws<InvalidDataException>(() => LlamaCppModel.Load(path));
        Assert.Contains("llama.cpp cannot load", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void TruncatedGgufGivesLlamaCppsReason()
    {
        string path = Path.Combine(TestPaths.NewTempDir("llamacpp-truncated"), "half.gguf");
        var bytes = File.ReadAllBytes(TestPaths.TinyLlamaFile("model-q8_0.gguf"));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => LlamaCppModel.Load(path));
        Assert.Contains("llama.cpp cannot load", e.Message);
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain("no reason logged", e.Message);
    }

    [Fact]
    public void TokenOutsideTheVocabularyIsAnArgumentError()
    {
        using var model = LlamaCppModel.Load(TestPaths.TinyLlamaFile("model-f32.gguf"), new LlamaCppOptions { Threads = 1, ContextSize = 16, BatchSize = 16 });
        Assert.Throws<ArgumentException>(() => model.Logits([1, 512]));
    }
}

public class LlamaCppRuntimeTests
{
    [Fact]
    public void NativeEnvironmentAsksOpenMpNotToSpin()
    {
        LlamaCppRuntime.EnsureLoaded();
        // Set through libc so libgomp sees it (a value the user set beforehand is kept).
        Assert.Equal(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "passive", LlamaCppRuntime.NativeEnvironmentVariable("OMP_WAIT_POLICY"));
        if (OperatingSystem.IsLinux()) Assert.Contains(LlamaCppRuntime.Build, new[] { "avx512", "avx2", "avx", "noavx" });
    }
}
