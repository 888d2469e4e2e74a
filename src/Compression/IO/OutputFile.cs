// OutputFile: the one place that checks an output path the user gave, names temporaries beside it, clears
// temporaries a killed run left, and turns a failed write into one line naming the user's path.
using System.Text.RegularExpressions;

namespace Compression.IO;

/// <summary>
/// Output-path checks shared by every writer (<see cref="AtomicFile"/>, the GGUF and safetensors writers):
/// the path must not be a folder, its parent must be a folder (created when missing), temporaries of earlier
/// killed runs are removed, and a write that fails (disk full, read-only, permission) becomes an
/// <see cref="IOException"/> whose message starts with the path the user gave, never the temporary's.
/// </summary>
public static partial class OutputFile
{
    /// <summary>
    /// Checks <paramref name="path"/> for writing a file there, creates its folder, removes stale temporaries
    /// beside it, and returns the full path. Throws an <see cref="IOException"/> naming <paramref name="path"/>.
    /// </summary>
    public static string Prepare(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("an output path is empty");
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new ArgumentException($"{path}: not a usable file path ({e.Message})", e);
        }
        if (Directory.Exists(full))
            throw new IOException($"{path}: is a folder; give a file name to write");
        if (full.EndsWith(Path.DirectorySeparatorChar) || full.EndsWith(Path.AltDirectorySeparatorChar))
            throw new IOException($"{path}: names a folder; give a file name to write");
        string dir = Path.GetDirectoryName(full)!;
        EnsureFolder(path, dir);
        RemoveStaleTemporaries(full);
        return full;
    }

    /// <summary>
    /// Creates <paramref name="dir"/> (the folder an output goes to) unless it exists; an ancestor that is a
    /// file, or a folder that cannot be created, is an <see cref="IOException"/> naming <paramref name="userPath"/>.
    /// </summary>
    public static void EnsureFolder(string userPath, string dir)
    {
        if (Directory.Exists(dir)) return;
        for (string? a = dir; !string.IsNullOrEmpty(a); a = Path.GetDirectoryName(a))
        {
            if (File.Exists(a)) throw new IOException($"{userPath}: cannot write there: {a} is a file, not a folder");
            if (Directory.Exists(a)) break;
        }
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) // ENOENT under /proc is a FileNotFoundException
        {
            string why = e is FileNotFoundException or DirectoryNotFoundException ? "that location cannot hold folders" : Reason(e, null);
            throw new IOException($"{userPath}: cannot create the folder {dir}: {why}", e);
        }
    }

    /// <summary>A fresh temporary name beside <paramref name="fullPath"/> ("NAME.tmp-GUID").</summary>
    public static string TempFor(string fullPath) => $"{fullPath}.tmp-{Guid.NewGuid():N}";

    /// <summary>
    /// Deletes the temporaries a killed writer left beside <paramref name="fullPath"/> ("NAME.tmp", "NAME.tmp-*",
    /// "NAME.*.tmp"). A temporary a live writer still holds open (every writer here holds its file locked) is
    /// left alone; the ones left are returned, so a caller can report them.
    /// </summary>
    public static IReadOnlyList<string> RemoveStaleTemporaries(string fullPath)
    {
        string dir = Path.GetDirectoryName(fullPath)!, name = Path.GetFileName(fullPath);
        var inUse = new List<string>();
        if (!Directory.Exists(dir) || name.Length == 0) return inUse;
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(dir, name + ".*").ToList(); }
        catch (Exception e) when (IsWriteFailure(e)) { return inUse; }
        foreach (string file in candidates)
        {
            string rest = Path.GetFileName(file)[name.Length..];
            if (!TempSuffix().IsMatch(rest)) continue;
            try
            {
                // A writer holds its temporary with an exclusive (or shared) lock: opening it exclusively fails while it lives.
                using (new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.None)) { }
                File.Delete(file);
            }
            catch (Exception e) when (IsWriteFailure(e)) { inUse.Add(file); }
        }
        return inUse;
    }

    /// <summary>True for the exceptions a write to disk can fail with (out of space, read-only, permissions).</summary>
    public static bool IsWriteFailure(Exception e) =>
        e is (IOException and not FileNotFoundException and not EndOfStreamException) or UnauthorizedAccessException;

    /// <summary>
    /// The error to throw when writing <paramref name="userPath"/> (through <paramref name="tempPath"/>, if any)
    /// failed with <paramref name="e"/>: one line naming the user's path and the reason, without the temporary's name.
    /// </summary>
    public static IOException Failure(string userPath, Exception e, string? tempPath = null)
    {
        if (e is IOException io && io.Message.StartsWith(userPath + ":", StringComparison.Ordinal)) return io; // already ours
        return new IOException($"{userPath}: could not write the file: {Reason(e, tempPath)}; nothing was written", e);
    }

    /// <summary>Deletes <paramref name="path"/> if it exists, ignoring failures (cleanup of a temporary).</summary>
    public static void TryDelete(string? path)
    {
        if (path is null) return;
        try { File.Delete(path); }
        catch (Exception e) when (IsWriteFailure(e)) { }
    }

    // The OS message without any " : 'path'" tail (.NET appends the temporary's name), plus a hint for the common causes.
    private static string Reason(Exception e, string? tempPath)
    {
        string m = e.Message;
        if (tempPath is not null) m = m.Replace($" : '{tempPath}'", "").Replace($"'{tempPath}'", "the temporary file").Replace(tempPath, "the temporary file");
        m = PathTail().Replace(m, "").Trim().TrimEnd('.');
        if (e is UnauthorizedAccessException) m = "permission denied (the folder is read-only or not writable by this user)";
        return m.Length == 0 ? e.GetType().Name : m;
    }

    [GeneratedRegex(@"^\.(tmp(-[A-Za-z0-9-]+)?|[0-9a-f]{32}\.tmp)$")]
    private static partial Regex TempSuffix();

    [GeneratedRegex(@"\s*:\s*'[^']*'\s*$")]
    private static partial Regex PathTail();
}
