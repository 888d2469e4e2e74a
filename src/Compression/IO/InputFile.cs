// InputFile: the one place that resolves and sizes an input file — through symlinks (the Hugging Face hub cache
// holds every checkpoint file as a relative symlink into blobs/), refusing empty and special files before opening them.
namespace Compression.IO;

/// <summary>
/// Path resolution and sizing of input files. A symlink is followed to its final target, so sizes are the
/// target's (a <see cref="FileInfo"/> of the link itself gives the link's length); errors name the path the user gave.
/// </summary>
public static class InputFile
{
    /// <summary>
    /// The final target of <paramref name="path"/> (itself when it is not a symlink). A missing file or a dangling
    /// link is a <see cref="FileNotFoundException"/> naming <paramref name="path"/>.
    /// </summary>
    public static string Resolve(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null)
        {
            if (!info.Exists)
                throw Directory.Exists(path)
                    ? new FileNotFoundException($"{path}: is a folder, expected a file", path)
                    : new FileNotFoundException($"{path}: file not found", path);
            return info.FullName;
        }
        FileSystemInfo? target;
        try { target = info.ResolveLinkTarget(returnFinalTarget: true); }
        catch (IOException e) { throw new FileNotFoundException($"{path}: cannot follow the symlink ({e.Message})", path, e); }
        if (target is null || !target.Exists || target is DirectoryInfo)
            throw new FileNotFoundException(
                $"{path}: symlink to {info.LinkTarget}, which {(target is DirectoryInfo ? "is a folder" : "does not exist")} (an incomplete download?)", path);
        return target.FullName;
    }

    /// <summary>Bytes of the file <paramref name="path"/> names, following symlinks.</summary>
    public static long Length(string path) => new FileInfo(Resolve(path)).Length;

    /// <summary>
    /// Checks that <paramref name="path"/> is a non-empty file no longer than <paramref name="maxBytes"/> and returns
    /// its resolved path and length. An empty file is refused before it is opened: special files (a pipe, /dev/null,
    /// /proc entries) report length 0, and opening a pipe would block forever.
    /// </summary>
    public static (string Resolved, long Length) CheckReadable(string path, long maxBytes, string what)
    {
        string resolved = Resolve(path);
        long length = new FileInfo(resolved).Length;
        if (length == 0)
            throw new InvalidDataException($"{path}: is empty (0 bytes) or not a regular file; expected {what}");
        if (length > maxBytes)
            throw new InvalidDataException($"{path}: {length:N0} bytes is too large for {what} (limit {maxBytes:N0})");
        return (resolved, length);
    }

    /// <summary>Reads a small file (config, index, spec) whole after <see cref="CheckReadable"/>.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what) =>
        File.ReadAllBytes(CheckReadable(path, maxBytes, what).Resolved);

    /// <summary>Reads a small UTF-8 text file whole after <see cref="CheckReadable"/>.</summary>
    public static string ReadAllText(string path, long maxBytes, string what) =>
        File.ReadAllText(CheckReadable(path, maxBytes, what).Resolved);
}
