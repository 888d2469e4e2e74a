// OpenMpWaitPolicy: idle OpenMP threads (libtorch's, llama.cpp's) sleep instead of spinning, so they leave the cores to the kernels.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compression.Kernels;

/// <summary>
/// libtorch runs its parallel ops on an OpenMP pool (its own copy of libgomp). With <c>OMP_WAIT_POLICY</c> unset, libgomp
/// lets a thread that finished a parallel region spin for <c>GOMP_SPINCOUNT</c> (300,000) pause loops before it sleeps
/// — tens of milliseconds on CPUs whose <c>pause</c> is slow (Sapphire Rapids: ~140 cycles). A decode step runs a few
/// hundred small libtorch ops between the workbench's own GEMVs, so on a 2-core machine that spinning thread takes one of
/// the two cores from <see cref="RowParallel"/>'s worker: measured on the 8B q4_0 GGUF, decode went from ~500 to ~414 ms
/// per token with <c>passive</c>. llama.cpp (LLamaSharp) reads the same variable; its 2-thread runs collapse on a shared
/// machine without it.
/// </summary>
/// <remarks>
/// libgomp reads the variable once, when it is loaded, through libc's <c>getenv</c>; .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> only changes the managed copy on Linux, so this calls
/// libc's <c>setenv</c>, from the library's module initializer — before the first TorchSharp operation loads libtorch.
/// A value the user set is kept (e.g. <c>OMP_WAIT_POLICY=active</c> for a dedicated machine); an empty one is replaced.
/// </remarks>
public static partial class OpenMpWaitPolicy
{
    public const string Variable = "OMP_WAIT_POLICY";
    public const string Default = "passive";

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    private static int _applied;

#pragma warning disable CA2255 // a library module initializer on purpose: it must run before libtorch (or llama.cpp) loads libgomp
    [ModuleInitializer]
    internal static void OnLoad() => Apply();
#pragma warning restore CA2255

    /// <summary>Sets <c>OMP_WAIT_POLICY=passive</c> in the native and the managed environment unless it is set. Idempotent.</summary>
    public static void Apply()
    {
        if (Interlocked.Exchange(ref _applied, 1) == 1) return;
        // Set but empty counts as unset: libgomp would read "" as its default, which spins.
        string value = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } set ? set : Default;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            try { SetEnv(Variable, value, overwrite: 1); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }
        Environment.SetEnvironmentVariable(Variable, value);
    }
}
