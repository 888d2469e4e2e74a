// SafetensorsWriter: streams one .safetensors file — header first, then each tensor's bytes in order.
using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using Compression.IO;

namespace Compression.Checkpoints.Safetensors;

/// <summary>
/// Writes a .safetensors file without holding it in memory: the tensors are declared up front (so
/// the header with every offset can be written first), then their bytes are supplied in declaration
/// order through <see cref="Write"/> or <see cref="WriteFloats"/>, in chunks of any size. The file is
/// written under a temporary name and renamed by <see cref="Complete"/>; disposing an incomplete
/// writer deletes the temporary file. The header is padded with spaces to a multiple of 8 bytes,
/// so data stays 8-byte aligned.
/// </summary>
public sealed class SafetensorsWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly string _tempPath;
    private readonly string _userPath;
    private readonly long[] _ends; // cumulative end offset of each tensor in the data region
    private long _written;
    private int _current;
    private bool _completed;

    /// <param name="path">Destination file (replaced on <see cref="Complete"/> if it exists).</param>
    /// <param name="tensors">Every tensor of the file, in the order their bytes will be written.</param>
    /// <param name="metadata">"__metadata__" entries; defaults to <c>{"format": "pt"}</c> as PyTorch writers do.</param>
    public SafetensorsWriter(string path, IReadOnlyList<TensorDeclaration> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = new HashSet<string>();
        foreach (var t in tensors)
        {
            t.Validate();
            if (!names.Add(t.Name)) throw new ArgumentException($"{path}: tensor '{t.Name}' declared twice");
        }
        _userPath = path;
        Path = OutputFile.Prepare(path);
        Tensors = tensors.ToArray();
        _ends = new long[Tensors.Count];
        long offset = 0;
        for (int i = 0; i < Tensors.Count; i++) _ends[i] = offset = checked(offset + Tensors[i].ByteLength);
        DataBytes = offset;

        byte[] header = BuildHeader(Tensors, _ends, metadata ?? new Dictionary<string, string> { ["format"] = "pt" });
        _tempPath = OutputFile.TempFor(Path);
        try { _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20); }
        catch (Exception e) when (OutputFile.IsWriteFailure(e)) { throw OutputFile.Failure(path, e, _tempPath); }
        try
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            _stream.Write(length);
            _stream.Write(header);
        }
        catch (Exception e)
        {
            Dispose();
            if (OutputFile.IsWriteFailure(e)) throw OutputFile.Failure(path, e, _tempPath);
            throw;
        }
        FileBytes = 8 + header.Length + DataBytes;
        Skip();
    }

    /// <summary>The final file path.</summary>
    public string Path { get; }
    public IReadOnlyList<TensorDeclaration> Tensors { get; }
    /// <summary>Bytes of tensor data the file will hold.</summary>
    public long DataBytes { get; }
    /// <summary>Bytes of the whole file (length prefix, header, data).</summary>
    public long FileBytes { get; }
    /// <summary>Index of the tensor the next bytes belong to (== Tensors.Count once all data is written).</summary>
    public int CurrentIndex => _current;
    /// <summary>The tensor the next bytes belong to, or null when all data is written.</summary>
    public TensorDeclaration? Current => _current < Tensors.Count ? Tensors[_current] : null;
    /// <summary>Data bytes still owed to the file.</summary>
    public long RemainingBytes => DataBytes - _written;
    /// <summary>Bytes still owed to the current tensor.</summary>
    public long RemainingInCurrent => _current < Tensors.Count ? _ends[_current] - _written : 0;

    /// <summary>Appends raw bytes; they continue the current tensor and may run on into the following ones.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (data.Length > DataBytes - _written)
            throw new InvalidOperationException($"{Path}: {data.Length} bytes written but only {DataBytes - _written} remain of the declared tensors");
        try { _stream.Write(data); }
        catch (Exception e) when (OutputFile.IsWriteFailure(e)) { throw Fail(e); }
        _written += data.Length;
        Skip();
    }

    /// <summary>
    /// Converts float32 values to the current tensor's format (rounding to nearest even) and appends
    /// them; values may run on into following tensors, each converted to its own format.
    /// </summary>
    public void WriteFloats(ReadOnlySpan<float> values)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            while (!values.IsEmpty)
            {
                var t = Current ?? throw new InvalidOperationException($"{Path}: {values.Length} values written past the last declared tensor");
                int size = t.Format.BytesPerBlock; // float formats: one element per block
                if (RemainingInCurrent % size != 0)
                    throw new InvalidOperationException($"{Path}: tensor '{t.Name}' is mid-element after a raw Write; cannot continue with floats");
                int n = (int)Math.Min(Math.Min(values.Length, RemainingInCurrent / size), buffer.Length / size);
                var dst = buffer.AsSpan(0, n * size);
                t.Format.QuantizeRow(values[..n], dst);
                Write(dst);
                values = values[n..];
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Checks every declared byte was written, flushes to disk and renames the file into place.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_written != DataBytes)
            throw new InvalidOperationException(
                $"{Path}: only {_written} of {DataBytes} data bytes written (tensor '{Current?.Name}' is incomplete)");
        try
        {
            _stream.Flush(flushToDisk: true);
            _stream.Dispose();
            File.Move(_tempPath, Path, overwrite: true);
        }
        catch (Exception e) when (OutputFile.IsWriteFailure(e)) { throw Fail(e); }
        _completed = true;
    }

    // Disk full, read-only, ...: drop the temporary and report the path the caller gave.
    private IOException Fail(Exception e)
    {
        Dispose();
        return OutputFile.Failure(_userPath, e, _tempPath);
    }

    /// <summary>Closes the writer; an incomplete file is deleted.</summary>
    public void Dispose()
    {
        if (_completed) return;
        try { _stream?.Dispose(); } catch (Exception e) when (OutputFile.IsWriteFailure(e)) { } // a full disk fails the final flush too
        OutputFile.TryDelete(_tempPath);
        _completed = true;
    }

    // Moves past finished (and empty) tensors so Current always names one still owed bytes.
    private void Skip()
    {
        while (_current < Tensors.Count && _written >= _ends[_current]) _current++;
    }

    private static byte[] BuildHeader(IReadOnlyList<TensorDeclaration> tensors, long[] ends, IReadOnlyDictionary<string, string> metadata)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            foreach (var (k, v) in metadata) w.WriteString(k, v);
            w.WriteEndObject();
            for (int i = 0; i < tensors.Count; i++)
            {
                var t = tensors[i];
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", SafetensorsDtype.For(t.Format));
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(ends[i] - t.ByteLength);
                w.WriteNumberValue(ends[i]);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        int padded = (json.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        json.WrittenSpan.CopyTo(header);
        header.AsSpan(json.WrittenCount).Fill((byte)' ');
        return header;
    }
}
