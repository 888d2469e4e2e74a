// LlamaQuantize: mainline llama.cpp's own quantizer (llama_model_quantize, as llama-quantize runs it) for reference files.
using Compression.Engines.LlamaCpp;
using LLama.Native;

namespace Compression.Tests.Engines;

internal static class LlamaQuantize
{
    /// <summary>Quantizes the GGUF <paramref name="source"/> into <paramref name="destination"/> as llama-quantize [--pure] would.</summary>
    public static void Run(string source, string destination, LLamaFtype ftype, bool pure)
    {
        LlamaCppRuntime.EnsureLoaded(); // the native library must be loaded before a NativeApi P/Invoke is bound
        var p = LLamaModelQuantizeParams.Default();
        p.ftype = ftype;
        p.pure = pure;
        p.nthread = 2;
        uint rc = NativeApi.llama_model_quantize(source, destination, ref p);
        Assert.True(rc == 0, $"llama_model_quantize {source} → {ftype} returned {rc}: {LlamaCppRuntime.RecentErrors()}");
    }
}
