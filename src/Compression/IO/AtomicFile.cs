// AtomicFile: write a whole file under a temporary name, then rename it into place, so readers never see half a file.
using System.Text;

namespace Compression.IO;

/// <summary>
/// Whole-file writes that either complete or leave the previous file untouched: the bytes go to
/// "name.RANDOM.tmp" in the same folder (same file system, so the rename is atomic), are flushed to disk, then renamed.
/// The path is checked first (<see cref="OutputFile.Prepare"/>); a failed write removes the temporary and throws an
/// <see cref="IOException"/> naming <c>path</c>.
/// </summary>
public static class AtomicFile
{
    /// <summary>Suffix of in-progress files; readers of a folder skip files ending with it.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically, creating the folder if needed.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string full = OutputFile.Prepare(path);
        string tmp = TempFor(full);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            OutputFile.TryDelete(tmp);
            if (OutputFile.IsWriteFailure(e)) throw OutputFile.Failure(path, e, tmp);
            throw;
        }
    }

    /// <summary>Runs <paramref name="write"/> on a temporary file beside <paramref name="path"/>, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = OutputFile.Prepare(path);
        string tmp = TempFor(full);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                if (fs.CanWrite) fs.Flush(flushToDisk: true); // the writer may have closed the stream itself
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            OutputFile.TryDelete(tmp);
            if (OutputFile.IsWriteFailure(e)) throw OutputFile.Failure(path, e, tmp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no BOM) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));

    private static string TempFor(string full) => $"{full}.{Guid.NewGuid():N}{TempSuffix}";
}
