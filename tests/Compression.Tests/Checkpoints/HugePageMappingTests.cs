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
}
