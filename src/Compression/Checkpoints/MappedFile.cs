// MappedFile: a read-only memory map of a whole file, so tensors are read in place, never copied whole.
using System.IO.MemoryMappedFiles;
using Compression.IO;

namespace Compression.Checkpoints;

/// <summary>
/// A file mapped read-only into memory; slices are bounds-checked against the file length. <see cref="OverMemory"/>
/// gives the same view over bytes already in memory (a method's packed output), so one writer streams both.
/// </summary>
public sealed unsafe class MappedFile : IDisposable
{
    private readonly IDisposable? _owner; // set for a view over memory: released with the last reference
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;
    private int _refs = 1;

    public string Path { get; }
    public long Length { get; }

    /// <summary>The file actually mapped: <see cref="Path"/> with symlinks followed (Hugging Face cache blobs).</summary>
    public string ResolvedPath { get; }

    /// <param name="path">The file to map; a symlink is followed and sized by its target. Messages name this path.</param>
    public MappedFile(string path)
    {
        Path = path;
        ResolvedPath = InputFile.Resolve(path);
        Length = new FileInfo(ResolvedPath).Length;
        // Special files (pipes, /dev/null) report 0 bytes; never open them (a pipe would block): a 0-byte map is empty.
        if (Length == 0) return;
        HugePageMapping.Refresh(ResolvedPath);
        try { _map = MemoryMappedFile.CreateFromFile(ResolvedPath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read); }
        catch (UnauthorizedAccessException e) { throw new FileNotFoundException($"{path}: cannot be read (permission denied)", path, e); }
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
        // Before anything touches the pages: those the kernel reads in for this mapping come in 2 MiB folios.
        HugePageMapping.Advise(_base, (long)_view.SafeMemoryMappedViewHandle.ByteLength);
        _base += _view.PointerOffset;
    }

    private MappedFile(string name, byte* data, long length, IDisposable owner)
    {
        Path = ResolvedPath = name;
        Length = length;
        _base = data;
        _owner = owner;
    }

    /// <summary>
    /// A view over <paramref name="length"/> bytes at <paramref name="data"/> that <paramref name="owner"/> keeps alive;
    /// the owner is disposed with the last reference. <paramref name="name"/> stands for the path in messages.
    /// </summary>
    public static MappedFile OverMemory(string name, byte* data, long length, IDisposable owner) => new(name, data, length, owner);

    /// <summary>Pointer to byte <paramref name="offset"/>; the caller has checked the range with <see cref="CheckRange"/>.</summary>
    public byte* Pointer(long offset) => _base + offset;

    /// <summary>Throws an <see cref="InvalidDataException"/> naming the file when [offset, offset+length) is outside it.</summary>
    public void CheckRange(long offset, long length, string what)
    {
        if (offset < 0 || length < 0 || offset > Length || length > Length - offset)
            throw new InvalidDataException(
                $"{Path}: {what} spans bytes [{offset}, {offset + length}) but the file has only {Length} bytes (truncated or corrupt)");
    }

    /// <summary>A checked view of [offset, offset+length); length must fit in an int.</summary>
    public ReadOnlySpan<byte> Span(long offset, int length, string what = "data")
    {
        CheckRange(offset, length, what);
        return length == 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(_base + offset, length);
    }

    /// <summary>
    /// Keeps the mapping alive for one more owner (a weight read in place from the file); each owner
    /// disposes once, and the file is unmapped with the last one.
    /// </summary>
    public MappedFile Retain()
    {
        if (Interlocked.Increment(ref _refs) <= 1) throw new ObjectDisposedException(Path);
        return this;
    }

    public void Dispose()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        if (_owner is not null)
        {
            _base = null;
            _owner.Dispose();
            return;
        }
        if (_view is not null && _base != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}
