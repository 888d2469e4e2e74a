// MachineInfo: a description of the machine a measurement ran on (CPU, cores, SIMD, memory, OS, runtime).
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compression.Reporting;

/// <summary>
/// The machine a result was measured on. Throughput numbers are only comparable on the same description.
/// </summary>
/// <param name="CpuModel">CPU model name (Linux: /proc/cpuinfo "model name"; elsewhere the architecture).</param>
/// <param name="Cores">Logical processors available to the process.</param>
/// <param name="Simd">Instruction-set extensions the runtime will use ("AVX2", "FMA", "F16C", "AVX-512F" …).</param>
/// <param name="TotalMemoryBytes">Physical memory (Linux: /proc/meminfo MemTotal; elsewhere the GC's view), 0 when unknown.</param>
/// <param name="Os">Operating system description.</param>
/// <param name="Runtime">.NET runtime description.</param>
public sealed record MachineInfo(string CpuModel, int Cores, IReadOnlyList<string> Simd, long TotalMemoryBytes, string Os, string Runtime)
{
    static readonly Lazy<MachineInfo> s_current = new(Probe);

    /// <summary>This machine, probed once per process.</summary>
    public static MachineInfo Current => s_current.Value;

    /// <summary>One line for reports: "AMD EPYC · 2 cores · AVX2 FMA F16C · 23.5 GiB".</summary>
    public string Summary =>
        $"{CpuModel} · {Cores} cores · {(Simd.Count == 0 ? "no SIMD extensions" : string.Join(' ', Simd))} · " +
        $"{TotalMemoryBytes / (double)(1L << 30):0.0} GiB · {Os} · {Runtime}";

    static MachineInfo Probe()
    {
        string? cpuinfo = TryRead("/proc/cpuinfo");
        string? meminfo = TryRead("/proc/meminfo");
        var (model, flags) = cpuinfo is null ? (null, new HashSet<string>()) : ParseCpuInfo(cpuinfo);
        long mem = meminfo is null ? 0 : ParseMemTotal(meminfo);
        if (mem == 0) mem = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return new MachineInfo(
            model ?? RuntimeInformation.ProcessArchitecture.ToString(),
            Environment.ProcessorCount,
            SimdExtensions(flags),
            mem,
            RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription);
    }

    static List<string> SimdExtensions(HashSet<string> cpuFlags)
    {
        var list = new List<string>();
        if (Avx2.IsSupported) list.Add("AVX2");
        if (Fma.IsSupported) list.Add("FMA");
        // .NET exposes no F16C intrinsics class; the kernel's CPU flags say whether the conversion instructions exist.
        if (cpuFlags.Contains("f16c")) list.Add("F16C");
        if (Avx512F.IsSupported) list.Add("AVX-512F");
        if (Avx512BW.IsSupported) list.Add("AVX-512BW");
        if (cpuFlags.Contains("avx512_vnni")) list.Add("AVX-512-VNNI");
        if (AvxVnni.IsSupported) list.Add("AVX-VNNI");
        // The runtime may decline 512-bit vectors even when AVX-512 exists (it does on some CPUs); kernels see this.
        if (Vector512.IsHardwareAccelerated) list.Add("Vector512");
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) list.Add("NEON");
        if (System.Runtime.Intrinsics.Arm.Dp.IsSupported) list.Add("DotProd");
        return list;
    }

    /// <summary>The first "model name" and the first "flags" line of a /proc/cpuinfo text.</summary>
    internal static (string? Model, HashSet<string> Flags) ParseCpuInfo(string text)
    {
        string? model = null;
        HashSet<string>? flags = null;
        foreach (string line in text.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (model is null && name == "model name") model = value;
            else if (flags is null && name is "flags" or "Features")
                flags = new HashSet<string>(value.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
            if (model is not null && flags is not null) break;
        }
        return (model, flags ?? []);
    }

    /// <summary>MemTotal of a /proc/meminfo text, in bytes; 0 when absent.</summary>
    internal static long ParseMemTotal(string text)
    {
        foreach (string line in text.Split('\n'))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
            string[] parts = line["MemTotal:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 1 && long.TryParse(parts[0], out long kb))
                return parts.Length >= 2 && parts[1] == "kB" ? kb * 1024 : kb;
        }
        return 0;
    }

    static string? TryRead(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path) : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
