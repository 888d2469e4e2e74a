// InputPathTests: checkpoints held as symlinks (the Hugging Face hub cache layout, a linked .gguf) load like the
// files they point to; dangling links, /dev/null and pipes are one clear error, never a hang.
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Inference;
using Compression.IO;

namespace Compression.Tests.Robustness;

public sealed class InputPathTests
{
    // snapshots/<rev>/<file> -> ../../blobs/<sha>, exactly as huggingface_hub lays out its cache.
    private static string HubCache()
    {
        string root = Path.Combine(TestPaths.NewTempDir("hub"), "models--meta-llama--tiny");
        string blobs = Path.Combine(root, "blobs"), snapshot = Path.Combine(root, "snapshots", "0123abcd");
        Directory.CreateDirectory(blobs);
        Directory.CreateDirectory(snapshot);
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
        {
            string sha = $"sha-{f.GetHashCode():x8}";
            File.Copy(TestPaths.TinyLlamaFile(f), Path.Combine(blobs, sha));
            File.CreateSymbolicLink(Path.Combine(snapshot, f), Path.Combine("..", "..", "blobs", sha));
        }
        return snapshot;
    }

    [Fact]
    public void A_hub_cache_snapshot_loads_with_the_same_tensors_and_logits_as_the_files()
    {
        string snapshot = HubCache();
        Assert.NotNull(new FileInfo(Path.Combine(snapshot, "model.safetensors")).LinkTarget);
        using (var linked = CheckpointOpener.Open(snapshot))
        using (var direct = CheckpointOpener.Open(TestPaths.TinyLlama))
        {
            foreach (var (name, t) in direct.Tensors)
                Assert.Equal(t.ToFloat32(), linked[name].ToFloat32());
        }
        Assert.Equal(new FileInfo(TestPaths.TinyLlamaFile("model.safetensors")).Length, InputFile.Length(Path.Combine(snapshot, "model.safetensors")));
        Assert.True(CheckpointOpener.FileBytes(snapshot) > new FileInfo(TestPaths.TinyLlamaFile("model.safetensors")).Length);

        using var a = ModelSession.Open(snapshot);
        using var b = ModelSession.Open(TestPaths.TinyLlama);
        int[] ids = [1, 5, 9, 200];
        Assert.Equal(b.Model.Logits(ids), a.Model.Logits(ids));
    }

    [Fact]
    public void A_symlinked_gguf_is_mapped_at_its_target_size()
    {
        string dir = TestPaths.NewTempDir("ln");
        string link = Path.Combine(dir, "model.gguf");
        File.CreateSymbolicLink(link, TestPaths.TinyLlamaFile("model-q4_0.gguf"));
        using var map = new MappedFile(link);
        Assert.Equal(new FileInfo(TestPaths.TinyLlamaFile("model-q4_0.gguf")).Length, map.Length);
        Assert.Equal(link, map.Path); // messages name the path the user gave
        using var c = CheckpointOpener.Open(link);
        Assert.IsType<GgufCheckpoint>(c);
        // Extensionless links are recognised by their target's magic bytes.
        string bare = Path.Combine(dir, "blob");
        File.CreateSymbolicLink(bare, link);
        using var c2 = CheckpointOpener.Open(bare);
        Assert.IsType<GgufCheckpoint>(c2);
    }

    [Fact]
    public void A_dangling_symlink_names_the_link_and_its_target()
    {
        string dir = TestPaths.NewTempDir("ln");
        string link = Path.Combine(dir, "model.gguf");
        File.CreateSymbolicLink(link, "../blobs/missing");
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointOpener.Open(link));
        Assert.Contains(link, e.Message);
        Assert.Contains("../blobs/missing", e.Message);
        // Inside a checkpoint folder: the shard link dangles (an interrupted download).
        string ckpt = RobustnessFiles.CopyFixture("dangling");
        File.Delete(Path.Combine(ckpt, "model.safetensors"));
        File.CreateSymbolicLink(Path.Combine(ckpt, "model.safetensors"), "../../blobs/gone");
        var e2 = Assert.ThrowsAny<Exception>(() => CheckpointOpener.Open(ckpt));
        Assert.True(e2 is FileNotFoundException or InvalidDataException, e2.GetType().Name);
        Assert.Contains("model.safetensors", e2.Message);
    }

    [Fact]
    public void Dev_null_is_an_empty_file_not_a_folder_to_search()
    {
        var e = Assert.Throws<InvalidDataException>(() => CheckpointOpener.Open("/dev/null"));
        Assert.StartsWith("/dev/null: ", e.Message);
        Assert.DoesNotContain("/dev/config.json", e.Message);
    }

    [Fact]
    public void A_pipe_is_refused_without_opening_it()
    {
        string dir = TestPaths.NewTempDir("fifo");
        string fifo = Path.Combine(dir, "model.gguf");
        Assert.Equal(0, RobustnessFiles.Tool("mkfifo", fifo));
        // Opening a pipe for reading blocks until a writer appears; the check must not open it.
        var open = Task.Run(() => Assert.Throws<InvalidDataException>(() => CheckpointOpener.Open(fifo)));
        Assert.True(open.Wait(TimeSpan.FromSeconds(20)), "opening a pipe as a checkpoint hung");
        Assert.Contains(fifo, open.Result.Message);
        // config.json as a pipe too.
        string ckpt = RobustnessFiles.CopyFixture("fifo-config");
        File.Delete(Path.Combine(ckpt, "config.json"));
        Assert.Equal(0, RobustnessFiles.Tool("mkfifo", Path.Combine(ckpt, "config.json")));
        var config = Task.Run(() => Assert.Throws<InvalidDataException>(() => CheckpointOpener.Open(ckpt)));
        Assert.True(config.Wait(TimeSpan.FromSeconds(20)), "reading a pipe as config.json hung");
    }

    [Fact]
    public void A_file_that_is_neither_gguf_nor_safetensors_says_what_was_expected()
    {
        string path = Path.Combine(TestPaths.NewTempDir("notckpt"), "weights.bin");
        File.WriteAllText(path, "hello");
        var e = Assert.Throws<InvalidDataException>(() => CheckpointOpener.Open(path));
        Assert.StartsWith(path + ": not a checkpoint", e.Message);
    }
}
