// ProcessMemoryTests: /proc/self/status parsing on real-format lines (tab separator, 8+ digit values with no
// padding) and the sampler seeing an allocation made during its window.
using System.Runtime.InteropServices;
using Compression.Evaluation.Throughput;

namespace Compression.Tests.Evaluation.Throughput;

public class ProcessMemoryTests
{
    // As the kernel writes them: "Key:\t" then the number right-aligned in 8 columns, so a number of 8 or more
    // digits follows the tab directly.
    private static readonly string[] Status =
    [
        "Name:\tcompress",
        "Umask:\t0022",
        "VmPeak:\t30265512 kB",
        "VmSize:\t30265512 kB",
        "VmHWM:\t22295796 kB",
        "VmRSS:\t  917504 kB",
        "RssAnon:\t  524288 kB",
        "RssFile:\t  393216 kB",
        "RssShmem:\t       0 kB",
        "Threads:\t7",
    ];

    [Fact]
    public void ParsesTabSeparatedValuesOfEveryWidth()
    {
        var m = ProcessMemory.Parse(Status);
        Assert.Equal(22295796L * 1024, m.PeakResidentBytes);
        Assert.Equal(917504L * 1024, m.ResidentBytes);
        Assert.Equal(524288L * 1024, m.AnonymousBytes);
        Assert.Equal(393216L * 1024, m.FileBytes);
    }

    [Fact]
    public void ParsesSpacePaddedAndTenDigitValues()
    {
        var m = ProcessMemory.Parse(["VmHWM:\t    4096 kB", "VmRSS:\t1234567890 kB", "RssAnon: 12 kB"]);
        Assert.Equal(1234567890L * 1024, m.ResidentBytes);
        Assert.Equal(1234567890L * 1024, m.PeakResidentBytes); // never below the current resident set
        Assert.Equal(12L * 1024, m.AnonymousBytes);
    }

    [Fact]
    public void MalformedValueIsAClearError()
    {
        var e = Assert.Throws<InvalidDataException>(() => ProcessMemory.Parse(["VmHWM:\tkB"]));
        Assert.Contains("VmHWM", e.Message);
    }

    [Fact]
    public void PeakResidentBytesReadsThisProcess()
    {
        Assert.True(ThroughputBenchmark.PeakResidentBytes() >= ProcessMemory.Current().ResidentBytes / 2);
        if (OperatingSystem.IsLinux()) Assert.True(ProcessMemory.Current().AnonymousBytes > 0);
    }
}

/// <summary>Tests that read the whole process's anonymous memory: run alone, so another test freeing its buffers during
/// the window cannot pull the figure below what this one allocated.</summary>
[CollectionDefinition(nameof(ProcessWideMemory), DisableParallelization = true)]
public sealed class ProcessWideMemory;

[Collection(nameof(ProcessWideMemory))]
public class MemorySamplerTests
{
    [Fact]
    public unsafe void SamplerSeesAnonymousMemoryAllocatedDuringItsWindow()
    {
        if (!OperatingSystem.IsLinux()) return;
        const long size = 256L << 20;
        long before = ProcessMemory.Current().AnonymousBytes;
        using var sampler = new MemorySampler(TimeSpan.FromMilliseconds(5));
        byte* p = (byte*)NativeMemory.Alloc((nuint)size);
        try
        {
            for (long i = 0; i < size; i += 4096) p[i] = 1; // fault every page in
            sampler.Sample();
        }
        finally { NativeMemory.Free(p); }
        sampler.Dispose();
        Assert.True(sampler.PeakAnonymousBytes >= before + size * 9 / 10,
            $"peak anonymous {sampler.PeakAnonymousBytes:N0} bytes, before {before:N0}, allocated {size:N0}");
    }
}
