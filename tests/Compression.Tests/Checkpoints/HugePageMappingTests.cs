// HugePageMappingTests: the COMPRESS_HUGEPAGES modes parse, and advising or refreshing a mapping never changes what it reads.
using Compression.Checkpoints;

namespace Compression.Tests.Checkpoints;

public class HugePageMappingTests
{
    [Fact]
    public void ModesParseAndABadOneIsNamed()
    {
        Assert.Equal("advise", HugePageMapping.Mode(null));
        Assert.Equal("advise", HugePageMapping.Mode(" On "));
        Assert.Equal("refresh", HugePageMapping.Mode("REFRESH"));
        Assert.Equal("off", HugePageMapping.Mode("0"));
        var e = Assert.Throws<NotSupportedException>(() => HugePageMapping.Mode("always"));
        Assert.Contains("COMPRESS_HUGEPAGES=always", e.Message);
    }

    [Fact]
    public unsafe void DroppingTheCacheAndAdvisingKeepTheBytes()
    {
        string dir = TestPaths.NewTempDir("hugepages");
        try
        {
            string path = Path.Combine(dir, "data.bin");
            var bytes = new byte[5 << 20]; // more than one 2 MiB page, not a multiple of it
            new Random(5).NextBytes(bytes);
            File.WriteAllBytes(path, bytes);
            HugePageMapping.DropCachedPages(path);
            using var map = new MappedFile(path); // advised before its first touch
            Assert.True(map.Span(0, bytes.Length).SequenceEqual(bytes));
            HugePageMapping.DropCachedPages(path); // mapped pages stay: the kernel drops only unmapped ones
            Assert.True(map.Span(0, bytes.Length).SequenceEqual(bytes));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Only the whole pages inside an allocation are advised: never a byte before its start or after its end.</summary>
    [Theory]
    [InlineData(0x10000, 8 << 20, 0x10000, 8 << 20)]            // page-aligned both ends
    [InlineData(0x10010, 8 << 20, 0x11000, (8 << 20) - 4096)]   // malloc's 16-byte header: round the start up, the end down
    [InlineData(0x10fff, 4096, 0x11000, 0)]                      // not one whole page inside
    [InlineData(0x10fff, 4097, 0x11000, 4096)]                   // exactly one
    public void OnlyWholePagesInsideAnAllocationAreAdvised(long start, long length, long first, long pages)
    {
        Assert.Equal((first, pages), HugePageMapping.WholePages(start, length));
    }

    [Fact]
    public unsafe void AnAdvisedAllocationKeepsItsBytes()
    {
        const int size = 6 << 20;
        byte* p = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(size, 64);
        try
        {
            HugePageMapping.AdviseAllocation(p, size);
            for (int i = 0; i < size; i += 997) p[i] = (byte)i;
            for (int i = 0; i < size; i += 997) Assert.Equal((byte)i, p[i]);
        }
        finally { System.Runtime.InteropServices.NativeMemory.AlignedFree(p); }
    }
}
