// LlamaCppRuntime: loads mainline llama.cpp (LLamaSharp's native build) once per process, with the environment it
// needs set in the native process environment, and keeps its log for error messages instead of printing it.
using System.Runtime.InteropServices;
using LLama.Native;

namespace Compression.Engines.LlamaCpp;

/// <summary>One-time setup of the llama.cpp native library and access to its recent log lines.</summary>
public static class LlamaCppRuntime
{
    /// <summary>Engine name used in records, options and messages.</summary>
    public const string EngineName = "llama.cpp";

    private static readonly object Gate = new();
    private static readonly Queue<string> RecentLog = new();
    private static readonly List<string> ImatrixLog = [];
    private static bool _loaded;
    private static string? _failure;

    [DllImport("libc", EntryPoint = "getenv", CharSet = CharSet.Ansi)]
    private static extern IntPtr GetEnv(string name);

    /// <summary>A variable as native code sees it (libc's environ), or null; on Windows, the .NET view.</summary>
    public static string? NativeEnvironmentVariable(string name) =>
        OperatingSystem.IsWindows() ? Environment.GetEnvironmentVariable(name) : Marshal.PtrToStringAnsi(GetEnv(name));

    /// <summary>
    /// Which of LLamaSharp's CPU builds was loaded ("avx512", "avx2", "avx", "noavx"), read from the process's
    /// mappings after loading; null before loading or where /proc is unavailable.
    /// </summary>
    public static string? Build { get; private set; }

    /// <summary>
    /// Makes sure the native library is loaded. <c>OMP_WAIT_POLICY=passive</c> is in the native environment by then
    /// (<see cref="Kernels.OpenMpWaitPolicy"/>, unless the user set it): without it idle OpenMP threads spin and a
    /// 2-thread run on a shared 2-core machine collapses. Throws <see cref="NotSupportedException"/> naming the cause when the library
    /// cannot load (typically libgomp.so.1 missing: Debian/Ubuntu package libgomp1).
    /// </summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            if (_failure is not null) throw new NotSupportedException(_failure);
            try
            {
                Kernels.OpenMpWaitPolicy.Apply();
                NativeLibraryConfig.All.WithLogCallback(Log);
                NativeApi.llama_max_devices(); // any native call loads the library (LLamaSharp picks the AVX-512/AVX2/... build)
                _loaded = true;
                Build = LoadedBuild();
            }
            catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException
                                          or LLama.Exceptions.RuntimeError)
            {
                var inner = e;
                while (inner.InnerException is not null) inner = inner.InnerException;
                _failure = $"{EngineName}: the native library did not load ({inner.Message.Trim()}). It needs libgomp.so.1 " +
                           "(Debian/Ubuntu: apt-get install libgomp1) and an x86-64 or arm64 Linux, Windows or macOS.";
                throw new NotSupportedException(_failure, e);
            }
        }
    }

    private static string? LoadedBuild()
    {
        try
        {
            var line = File.ReadLines("/proc/self/maps").FirstOrDefault(l => l.Contains("libllama.so", StringComparison.Ordinal));
            if (line is null) return null;
            string path = line[line.IndexOf('/')..];
            return Path.GetFileName(Path.GetDirectoryName(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// The address of <paramref name="symbol"/> in the loaded native library whose file name starts with
    /// <paramref name="library"/> ("libggml-base"), found among the process's mappings so it is the very build LLamaSharp
    /// picked; null when it is not loaded, not exported, or /proc is unavailable (not Linux).
    /// </summary>
    public static IntPtr? NativeExport(string library, string symbol)
    {
        EnsureLoaded();
        try
        {
            string? line = File.ReadLines("/proc/self/maps").FirstOrDefault(l =>
                l.Contains('/') && Path.GetFileName(l[l.IndexOf('/')..]).StartsWith(library + ".", StringComparison.Ordinal));
            if (line is null) return null;
            IntPtr handle = NativeLibrary.Load(line[line.IndexOf('/')..].Trim()); // already loaded: the same handle
            return NativeLibrary.TryGetExport(handle, symbol, out IntPtr address) ? address : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or BadImageFormatException) { return null; }
    }

    /// <summary>The ggml commit the loaded native build reports (<c>ggml_commit()</c>, e.g. "815a2a591"), or null when unknown.</summary>
    public static unsafe string? GgmlCommit =>
        NativeExport("libggml-base", "ggml_commit") is { } f ? Marshal.PtrToStringAnsi(((delegate* unmanaged<IntPtr>)f)()) : null;

    /// <summary>The last lines llama.cpp logged (warnings and errors), oldest first; used to explain failures.</summary>
    public static string RecentErrors()
    {
        lock (RecentLog) return string.Join(" ", RecentLog.Select(l => l.Trim()).Where(l => l.Length > 0));
    }

    /// <summary>Forgets the logged lines (before an operation whose failure should be explained by its own log).</summary>
    public static void ClearLog()
    {
        lock (RecentLog) RecentLog.Clear();
    }

    /// <summary>Forgets the quantizer's importance-matrix lines (callers hold the quantizer's gate: only it logs them).</summary>
    public static void ClearImatrixLines()
    {
        lock (RecentLog) ImatrixLog.Clear();
    }

    /// <summary>
    /// The quantizer's info lines about the importance matrix since <see cref="ClearImatrixLines"/> ("have importance
    /// matrix data with N entries", "did not find weights for T"): how a caller learns what llama.cpp actually took.
    /// </summary>
    public static IReadOnlyList<string> ImatrixLines()
    {
        lock (RecentLog) return ImatrixLog.ToList();
    }

    private static void Log(LLamaLogLevel level, string message)
    {
        if (level == LLamaLogLevel.Info && (message.Contains("importance matrix", StringComparison.Ordinal) || message.Contains("did not find weights", StringComparison.Ordinal)))
            lock (RecentLog)
                if (ImatrixLog.Count < 4096) ImatrixLog.Add(message.Trim());
        if (level is not (LLamaLogLevel.Warning or LLamaLogLevel.Error)) return;
        lock (RecentLog)
        {
            RecentLog.Enqueue(message);
            while (RecentLog.Count > 8) RecentLog.Dequeue();
        }
    }
}
