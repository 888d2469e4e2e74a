// OutputFaultTests: writes that fail — out of space (a failing stream, and a real tiny tmpfs when it can be mounted),
// read-only folders, a folder or a file in the way — give one line naming the user's path and leave no temporary;
// temporaries of killed runs are cleared on the next write; a quantize killed mid-write leaves no output.
using System.Diagnostics;
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.IO;
using Compression.Quantization;
using Xunit.Abstractions;

namespace Compression.Tests.Robustness;

public sealed class OutputFaultTests(ITestOutputHelper output)
{
    private static string[] Siblings(string path) =>
        Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Order().ToArray()!;

    [Fact]
    public void A_stream_that_runs_out_of_space_names_the_path_keeps_the_old_file_and_removes_the_temporary()
    {
        string path = Path.Combine(TestPaths.NewTempDir("enospc"), "results.json");
        AtomicFile.WriteAllText(path, "previous");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[1000]);
            // What FileStream throws on ENOSPC, naming the temporary it was writing.
            throw new IOException($"No space left on device : '{((FileStream)s).Name}'", 28);
        }));
        Assert.Equal($"{path}: could not write the file: No space left on device; nothing was written", e.Message);
        Assert.Equal(["results.json"], Siblings(path));
        Assert.Equal("previous", File.ReadAllText(path));
    }

    [Fact]
    public void A_folder_in_the_way_or_a_file_as_parent_is_one_line_naming_the_path()
    {
        string dir = TestPaths.NewTempDir("paths");
        var isDir = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(dir, "x"));
        Assert.Equal($"{dir}: is a folder; give a file name to write", isDir.Message);

        string file = Path.Combine(dir, "file");
        File.WriteAllText(file, "x");
        string under = Path.Combine(file, "sub", "out.gguf");
        var parent = Assert.Throws<IOException>(() => new GgufWriter(under));
        Assert.Equal($"{under}: cannot write there: {file} is a file, not a folder", parent.Message);

        var synth = Assert.Throws<IOException>(() => new Compression.Checkpoints.Safetensors.ShardedSafetensorsWriter(file, [], 1000));
        Assert.StartsWith(file + ": is a file", synth.Message);
    }

    [Fact]
    public void Stale_temporaries_of_a_killed_run_are_removed_and_a_live_writers_is_kept()
    {
        string dir = TestPaths.NewTempDir("stale");
        string path = Path.Combine(dir, "model.gguf");
        string[] stale = [$"{path}.tmp-0123456789abcdef0123456789abcdef", $"{path}.tmp", $"{path}.0123456789abcdef0123456789abcdef.tmp"];
        foreach (var s in stale) File.WriteAllBytes(s, new byte[100]);
        string unrelated = Path.Combine(dir, "model.gguf.bak");
        File.WriteAllText(unrelated, "keep");
        string live = $"{path}.tmp-live";
        using (var holder = new FileStream(live, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            var left = OutputFile.RemoveStaleTemporaries(path);
            Assert.Equal([live], left);
        }
        Assert.Equal(["model.gguf.bak", "model.gguf.tmp-live"], Siblings(path));
        // The next write of the output clears them (the holder is gone now).
        using (var input = CheckpointOpener.Open(TestPaths.TinyLlama))
            GgufExporter.Write(input, input.LoadTokenizerData()!, (_, _) => FormatRegistry.Get("q8_0"), path);
        Assert.Equal(["model.gguf", "model.gguf.bak"], Siblings(path));
    }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> at a fresh folder (root only); null when the machine does not allow it.</summary>
    private string? TryMountTmpfs(string size, bool readOnly = false)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return null;
        string dir = TestPaths.NewTempDir("tmpfs");
        string options = $"size={size}" + (readOnly ? ",ro" : "");
        if (RobustnessFiles.Tool("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir) != 0)
        {
            output.WriteLine("cannot mount a tmpfs here; the failing-stream test covers the out-of-space path");
            return null;
        }
        return dir;
    }

    [Fact]
    public void Quantizing_onto_a_full_disk_names_the_output_and_leaves_nothing()
    {
        string? mount = TryMountTmpfs("256k");
        if (mount is null) return;
        try
        {
            string path = Path.Combine(mount, "out.gguf");
            using var input = CheckpointOpener.Open(TestPaths.TinyLlama);
            var e = Assert.Throws<IOException>(() =>
                GgufExporter.Write(input, input.LoadTokenizerData()!, (_, _) => FormatRegistry.F32, path)); // ~2 MB into 256 KB
            output.WriteLine(e.Message);
            Assert.StartsWith($"{path}: could not write the file: ", e.Message);
            Assert.Contains("No space left on device", e.Message);
            Assert.DoesNotContain(".tmp", e.Message);
            Assert.Empty(Directory.GetFiles(mount));
        }
        finally { RobustnessFiles.Tool("umount", mount); }
    }

    [Fact]
    public void Writing_into_a_read_only_folder_names_the_path_and_leaves_nothing()
    {
        string? mount = TryMountTmpfs("1m", readOnly: true);
        string dir;
        if (mount is not null) dir = mount;
        else if (!OperatingSystem.IsWindows() && Environment.UserName != "root")
        {
            dir = TestPaths.NewTempDir("ro");
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        else return; // root without mount: permissions do not bind; the failing stream covers the path
        try
        {
            string path = Path.Combine(dir, "results", "r.json");
            var e = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(path, "x"));
            output.WriteLine(e.Message);
            Assert.StartsWith(path + ": ", e.Message);
            string file = Path.Combine(dir, "r.json");
            var e2 = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(file, "x"));
            output.WriteLine(e2.Message);
            Assert.StartsWith(file + ": could not write the file: ", e2.Message);
            Assert.Empty(Directory.GetFileSystemEntries(dir));
        }
        finally { if (mount is not null) RobustnessFiles.Tool("umount", mount); }
    }

    [Fact]
    public void A_quantize_killed_mid_write_leaves_no_output_and_the_rerun_clears_its_temporary()
    {
        // A checkpoint big enough that the child is still writing when it is killed: synth a 4-layer, ~30 MB model.
        string model = TestPaths.NewTempDir("kill-model");
        var config = Compression.Model.LlamaConfig.Parse(File.ReadAllText(TestPaths.TinyLlamaFile("config.json"))) with
        {
            HiddenSize = 512, IntermediateSize = 1536, NumLayers = 4, NumHeads = 8, NumKeyValueHeadsRaw = 4, HeadDimRaw = null,
        };
        Compression.Checkpoints.Safetensors.SyntheticCheckpoint.Write(config, model, FormatRegistry.F32, 1L << 40, 1);
        File.Copy(TestPaths.TinyLlamaFile("tokenizer.json"), Path.Combine(model, "tokenizer.json"));
        File.Copy(TestPaths.TinyLlamaFile("tokenizer_config.json"), Path.Combine(model, "tokenizer_config.json"));

        string outDir = TestPaths.NewTempDir("kill-out");
        string outPath = Path.Combine(outDir, "m.gguf");
        using (var child = Process.Start(RobustnessFiles.Cli(["quantize", "-m", model, "-f", "q4_0", "-o", outPath]))!)
        {
            var clock = Stopwatch.StartNew();
            while (!Directory.EnumerateFiles(outDir, "m.gguf.tmp-*").Any() && !child.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
                Thread.Sleep(2);
            Assert.False(child.HasExited, "quantize finished before it could be killed; make the model bigger");
            child.Kill(); // SIGKILL: no cleanup runs
            child.WaitForExit();
        }
        Assert.False(File.Exists(outPath), "a killed quantize left an output file");
        Assert.Single(Directory.GetFiles(outDir)); // the killed run's temporary

        var (exit, _, err) = RobustnessFiles.RunCli(["quantize", "-m", model, "-f", "q4_0", "-o", outPath]);
        Assert.True(exit == 0, err);
        Assert.Equal(["m.gguf"], Siblings(outPath));
        using var written = GgufCheckpoint.Open(outPath);
        Assert.Equal(4, written.Config.NumLayers);
    }
}
