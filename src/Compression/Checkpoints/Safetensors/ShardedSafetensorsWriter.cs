// ShardedSafetensorsWriter: streams a checkpoint's tensors into size-capped shards plus the HF index.
using System.Text.Json;
using Compression.IO;
using System.Text.RegularExpressions;

namespace Compression.Checkpoints.Safetensors;

/// <summary>
/// Writes tensors into a directory the way Hugging Face's <c>save_pretrained(max_shard_size=...)</c>
/// does: shards <c>model-00001-of-0000N.safetensors</c> filled in declaration order up to
/// <see cref="MaxShardBytes"/> of tensor data (a tensor larger than that gets a shard of its own),
/// plus <c>model.safetensors.index.json</c> (<c>{"metadata": {"total_size"}, "weight_map"}</c>);
/// a checkpoint that fits one shard is written as <c>model.safetensors</c> with no index. Bytes are
/// streamed as with <see cref="SafetensorsWriter"/>, crossing shard boundaries transparently. Each
/// shard is renamed into place when full and the index is written last, so an interrupted write
/// never leaves a loadable half checkpoint. <see cref="Complete"/> then removes weights files of an
/// earlier save in the same directory that the new checkpoint does not use (as HF does).
/// </summary>
public sealed partial class ShardedSafetensorsWriter : IDisposable
{
    private readonly IReadOnlyList<IReadOnlyList<TensorDeclaration>> _plan;
    private SafetensorsWriter? _writer;
    private int _shard = -1;
    private bool _completed;

    /// <param name="directory">Output directory (created if needed).</param>
    /// <param name="tensors">Every tensor, in the order their bytes will be written.</param>
    /// <param name="maxShardBytes">Most tensor-data bytes per shard (HF's max_shard_size).</param>
    public ShardedSafetensorsWriter(string directory, IReadOnlyList<TensorDeclaration> tensors, long maxShardBytes)
    {
        Directory = System.IO.Path.GetFullPath(directory);
        var names = new HashSet<string>();
        foreach (var t in tensors)
        {
            t.Validate();
            // Shards check their own names; a duplicate in two shards would only surface in the index.
            if (!names.Add(t.Name)) throw new ArgumentException($"{Directory}: tensor '{t.Name}' declared twice");
        }
        MaxShardBytes = maxShardBytes;
        _plan = PlanShards(tensors, maxShardBytes);
        ShardFileNames = _plan.Count == 1
            ? [SafetensorsCheckpoint.SingleFileName]
            : Enumerable.Range(1, _plan.Count).Select(i => $"model-{i:D5}-of-{_plan.Count:D5}.safetensors").ToArray();
        TotalBytes = tensors.Sum(t => t.ByteLength);
        if (File.Exists(Directory)) throw new IOException($"{directory}: is a file; a checkpoint is written to a folder");
        OutputFile.EnsureFolder(directory, Directory);
        NextShard();
    }

    public string Directory { get; }
    public long MaxShardBytes { get; }
    /// <summary>File names of the shards, in order ("model.safetensors" when there is one).</summary>
    public IReadOnlyList<string> ShardFileNames { get; }
    /// <summary>The tensors of each shard.</summary>
    public IReadOnlyList<IReadOnlyList<TensorDeclaration>> Shards => _plan;
    /// <summary>Bytes of tensor data over all shards (the index's total_size).</summary>
    public long TotalBytes { get; }
    /// <summary>The tensor the next bytes belong to, or null when all data is written.</summary>
    public TensorDeclaration? Current => _writer?.Current;

    /// <summary>
    /// Groups tensors, in order, into shards of at most <paramref name="maxShardBytes"/> data bytes
    /// (HF's rule: start a new shard when the next tensor would overflow the current one; a tensor
    /// bigger than the limit sits alone). An empty list gives one empty shard.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<TensorDeclaration>> PlanShards(IReadOnlyList<TensorDeclaration> tensors, long maxShardBytes)
    {
        if (maxShardBytes <= 0) throw new ArgumentOutOfRangeException(nameof(maxShardBytes), maxShardBytes, "max shard size must be positive");
        var shards = new List<IReadOnlyList<TensorDeclaration>>();
        var current = new List<TensorDeclaration>();
        long size = 0;
        foreach (var t in tensors)
        {
            if (current.Count > 0 && size + t.ByteLength > maxShardBytes)
            {
                shards.Add(current);
                current = [];
                size = 0;
            }
            current.Add(t);
            size += t.ByteLength;
        }
        shards.Add(current);
        return shards;
    }

    /// <summary>Appends raw bytes, continuing the current tensor (and on into the following ones).</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var w = _writer ?? throw new InvalidOperationException($"{Directory}: data written after the last tensor");
            int n = (int)Math.Min(data.Length, w.RemainingBytes);
            w.Write(data[..n]);
            data = data[n..];
            if (w.Current is null) NextShard();
        }
    }

    /// <summary>Converts float32 values to each tensor's format and appends them (see <see cref="SafetensorsWriter.WriteFloats"/>).</summary>
    public void WriteFloats(ReadOnlySpan<float> values)
    {
        while (!values.IsEmpty)
        {
            var w = _writer ?? throw new InvalidOperationException($"{Directory}: data written after the last tensor");
            var t = w.Current!;
            int n = (int)Math.Min(values.Length, w.RemainingInCurrent / t.Format.BytesPerBlock);
            if (n == 0) throw new InvalidOperationException($"{Directory}: tensor '{t.Name}' is mid-element after a raw Write; cannot continue with floats");
            w.WriteFloats(values[..n]);
            values = values[n..];
            if (w.Current is null) NextShard();
        }
    }

    /// <summary>Checks every byte was written, writes the index (when sharded) and removes stale weights files.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_writer is not null)
            throw new InvalidOperationException($"{Directory}: checkpoint incomplete, tensor '{_writer.Current?.Name}' and later are still owed bytes");
        if (_plan.Count > 1) WriteIndex();
        RemoveStaleFiles();
        _completed = true;
    }

    /// <summary>Deletes the temporary file of an unfinished shard; finished shards stay (without an index they do not load).</summary>
    public void Dispose()
    {
        _writer?.Dispose();
        _writer = null;
        _completed = true;
    }

    // Completes the finished shard and opens the next one; empty shards (empty tensors only) complete at once.
    private void NextShard()
    {
        while (true)
        {
            if (_writer is not null)
            {
                _writer.Complete();
                _writer = null;
            }
            if (++_shard >= _plan.Count) return;
            _writer = new SafetensorsWriter(System.IO.Path.Combine(Directory, ShardFileNames[_shard]), _plan[_shard]);
            if (_writer.Current is not null) return;
        }
    }

    private void WriteIndex()
    {
        string path = System.IO.Path.Combine(Directory, SafetensorsCheckpoint.IndexFileName);
        AtomicFile.Write(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteStartObject("metadata");
            w.WriteNumber("total_size", TotalBytes);
            w.WriteEndObject();
            w.WriteStartObject("weight_map");
            // HF sorts the weight_map by tensor name.
            var entries = _plan.SelectMany((shard, i) => shard.Select(t => (t.Name, File: ShardFileNames[i])))
                               .OrderBy(e => e.Name, StringComparer.Ordinal);
            foreach (var (name, file) in entries) w.WriteString(name, file);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private void RemoveStaleFiles()
    {
        var keep = new HashSet<string>(ShardFileNames);
        if (_plan.Count > 1) keep.Add(SafetensorsCheckpoint.IndexFileName);
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
        {
            string name = System.IO.Path.GetFileName(file);
            bool weights = name == SafetensorsCheckpoint.SingleFileName || name == SafetensorsCheckpoint.IndexFileName
                           || ShardName().IsMatch(name);
            if (weights && !keep.Contains(name)) File.Delete(file);
        }
    }

    [GeneratedRegex(@"^model-\d{5}-of-\d{5}\.safetensors$")]
    private static partial Regex ShardName();
}
