// ResultsStoreTests: atomic one-file-per-cell storage, skip-by-key, and corrupt files reported by name.
using Compression.Reporting;

using Compression.IO;

namespace Compression.Tests.Reporting;

public class ResultsStoreTests
{
    static ResultRecord Sample(string format = "q8_0", int seed = 0) =>
        SampleRecords.Make(format, "recall", new Dictionary<string, MetricValue> { ["acc"] = new(0.7, 0.65, 0.75) }, 1000, seed);

    [Fact]
    public void Save_WritesOneFileUnderTheKey_LeavesNoTemp()
    {
        var store = new ResultsStore(TestPaths.NewTempDir("store"));
        var r = Sample();
        string path = store.Save(r);

        Assert.Equal(store.PathFor(r.Key), path);
        Assert.Equal([path], Directory.GetFiles(store.RecordsDirectory));
        Assert.Empty(Directory.GetFiles(store.Root, "*.tmp", SearchOption.AllDirectories));
        Assert.Equal(ResultJson.Serialize(r), File.ReadAllText(path));
    }

    [Fact]
    public void ContainsAndTryGet_SkipCompletedCellsOnly()
    {
        var store = new ResultsStore(TestPaths.NewTempDir("store"));
        var key = Sample().Key;
        Assert.False(store.Contains(key));
        Assert.False(store.TryGet(key, out var none));
        Assert.Null(none);

        store.Save(Sample());
        Assert.True(store.Contains(key));
        Assert.True(store.TryGet(key, out var got));
        Assert.Equal(ResultJson.Serialize(Sample()), ResultJson.Serialize(got!));
        Assert.False(store.Contains(key with { Seed = 1 }));
        Assert.False(store.Contains(key with { Format = "q4_0" }));
        Assert.False(store.Contains(key with { Policy = "pure" }));
        Assert.False(store.Contains(key with { Task = "wikitext" }));
        Assert.False(store.Contains(key with { Model = "other" }));
    }

    [Fact]
    public void Save_SameCellTwice_ReplacesTheRecord()
    {
        var store = new ResultsStore(TestPaths.NewTempDir("store"));
        store.Save(Sample());
        var again = Sample() with { Id = "second", Metrics = new Dictionary<string, MetricValue> { ["acc"] = new(0.9) } };
        store.Save(again);
        var all = store.LoadAll();
        Assert.Equal("second", Assert.Single(all.Records).Id);
        Assert.Empty(all.Errors);
    }

    [Fact]
    public void FileName_IsStableReadableAndDistinguishesKeysThatSlugAlike()
    {
        var k = new ResultKey("Llama 3.1 8B", "q4_0", "default", "arc/easy", 7);
        Assert.Equal(k.FileName, new ResultKey("Llama 3.1 8B", "q4_0", "default", "arc/easy", 7).FileName);
        Assert.StartsWith("llama_3.1_8b__q4_0__default__arc_easy__s7-", k.FileName);
        Assert.Matches("^[a-z0-9._-]+\\.json$", k.FileName);
        Assert.NotEqual(k.FileName, (k with { Task = "arc_easy" }).FileName);
        Assert.NotEqual(k.FileName, (k with { Format = "Q4_0" }).FileName);
        Assert.NotEqual(k.FileName, (k with { Seed = -7 }).FileName);
    }

    [Fact]
    public void LoadAll_ReportsCorruptFilesByName_SkipsTemp_KeepsTheRest()
    {
        var store = new ResultsStore(TestPaths.NewTempDir("store"));
        store.Save(Sample("q8_0"));
        store.Save(Sample("q4_0"));
        File.WriteAllText(Path.Combine(store.RecordsDirectory, "broken.json"), "{ \"id\": \"x\", ");
        File.WriteAllText(Path.Combine(store.RecordsDirectory, "empty.json"), "");
        File.WriteAllText(Path.Combine(store.RecordsDirectory, "half.json.abc.tmp"), "{");

        var set = store.LoadAll();

        Assert.Equal(["q4_0", "q8_0"], set.Records.Select(r => r.Format).Order());
        Assert.Equal(2, set.Errors.Count);
        Assert.Contains(set.Errors, e => e.Path.EndsWith("broken.json") && e.Message.Contains("broken.json"));
        Assert.Contains(set.Errors, e => e.Path.EndsWith("empty.json") && e.Message.Contains("empty.json"));
    }

    [Fact]
    public void TryGet_CorruptOrForeignRecord_ThrowsNamingTheFile()
    {
        var store = new ResultsStore(TestPaths.NewTempDir("store"));
        var key = Sample().Key;
        Directory.CreateDirectory(store.RecordsDirectory);
        File.WriteAllText(store.PathFor(key), "not json");
        var e = Assert.Throws<InvalidDataException>(() => store.TryGet(key, out _));
        Assert.Contains(key.FileName, e.Message);

        // A valid record of another cell under this cell's name is not taken for this cell.
        File.WriteAllText(store.PathFor(key), ResultJson.Serialize(Sample("q4_0")));
        e = Assert.Throws<InvalidDataException>(() => store.TryGet(key, out _));
        Assert.Contains(key.FileName, e.Message);
    }

    [Fact]
    public void LoadAll_OfMissingFolder_IsEmpty()
    {
        var set = new ResultsStore(Path.Combine(TestPaths.NewTempDir("store"), "nothing-here")).LoadAll();
        Assert.Empty(set.Records);
        Assert.Empty(set.Errors);
    }

    [Fact]
    public void AtomicWrite_ThatFails_LeavesNoTempAndKeepsTheTarget()
    {
        string dir = TestPaths.NewTempDir("atomic");
        string target = Path.Combine(dir, "occupied");
        Directory.CreateDirectory(target);   // a folder where the file should go: the rename must fail
        Assert.ThrowsAny<Exception>(() => AtomicFile.WriteAllText(target, "data"));
        Assert.True(Directory.Exists(target));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void AtomicWrite_ReplacesAnExistingFile()
    {
        string path = Path.Combine(TestPaths.NewTempDir("atomic"), "sub", "f.txt");
        AtomicFile.WriteAllText(path, "one");
        AtomicFile.WriteAllText(path, "two");
        Assert.Equal("two", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }
}
