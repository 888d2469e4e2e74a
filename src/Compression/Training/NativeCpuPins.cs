// NativeCpuPins: fixes libtorch's CPU code paths (ATen's vector ISA, MKL's code branch, oneDNN's maximum ISA) before
// libtorch first reads them, so float results — training above all — are the same bits on every x86-64 machine with AVX2.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compression.Training;

/// <summary>
/// libtorch picks its kernels per machine: ATen dispatches every vectorised op (reductions, softmax, exp, the normal
/// sampler that initialises weights) to an AVX-512 or AVX2 build of it, MKL's sgemm to a branch per CPU (its own for
/// AMD Zen), oneDNN to the widest ISA present. The branches round differently, and 1,200 training steps amplify the last
/// bit into a different model. These variables name the branch instead: the AVX2 one, which every supported machine has.
/// </summary>
/// <remarks>
/// They must reach the native <c>getenv</c>: .NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/> only
/// changes the managed copy on Linux, so this calls libc's <c>setenv</c>. ATen reads its variable at its first dispatched
/// op and MKL at its first call, so setting them before the first TorchSharp operation is early enough; the library's
/// module initializer does it when Compression.dll loads. A variable already set in the environment is left as it is —
/// that is the opt-out (e.g. <c>ATEN_CPU_CAPABILITY=avx512 MKL_CBWR=AUTO</c> for libtorch's fastest paths, at the price
/// of machine-dependent rounding). Pinned always, not only for training: the f32 and bf16 evaluations run through
/// libtorch too, and every non-timing metric of a record should be the same on every machine.
/// </remarks>
public static partial class NativeCpuPins
{
    /// <summary>The variables and the values they are pinned to.</summary>
    public static readonly IReadOnlyList<(string Name, string Value)> Pins =
    [
        // ATen: "avx2" selects the AVX2 build of every CPU kernel (unset means the widest the CPU has).
        ("ATEN_CPU_CAPABILITY", "avx2"),
        // MKL's conditional numerical reproducibility: the AVX2 code branch on every Intel or compatible CPU; STRICT keeps
        // results independent of the thread count too.
        ("MKL_CBWR", "AVX2,STRICT"),
        // oneDNN (libtorch uses it for some bf16 matmuls): both spellings, old and new.
        ("DNNL_MAX_CPU_ISA", "AVX2"),
        ("ONEDNN_MAX_CPU_ISA", "AVX2"),
    ];

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

    private static int _applied;

#pragma warning disable CA2255 // a library module initializer on purpose: it must run before any caller's first TorchSharp op
    [ModuleInitializer]
    internal static void OnLoad() => Apply();
#pragma warning restore CA2255

    /// <summary>Sets each pin in the native environment unless it is already set there. Idempotent; Linux only.</summary>
    public static void Apply()
    {
        if (Interlocked.Exchange(ref _applied, 1) == 1 || !OperatingSystem.IsLinux()) return;
        try
        {
            foreach (var (name, value) in Pins) SetEnv(name, value, overwrite: 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>"NAME=value …" for every pinned variable as the native environment holds it now ("unset" when it is not).</summary>
    public static string Describe() => string.Join(' ', Pins.Select(p => $"{p.Name}={NativeValue(p.Name) ?? "unset"}"));

    /// <summary>The value the native environment holds for <paramref name="name"/> (what libtorch's getenv sees), or null.</summary>
    public static string? NativeValue(string name)
    {
        if (!OperatingSystem.IsLinux()) return Environment.GetEnvironmentVariable(name);
        var p = GetEnv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }
}
