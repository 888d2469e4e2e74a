// ResultsStore: the folder of result records — one atomically written JSON file per sweep cell.
using Compression.IO;

namespace Compression.Reporting;

/// <summary>A file that could not be read as a result record, with the reason (the file name is in the message too).</summary>
public sealed record LoadError(string Path, string Message);

/// <summary>Every readable record of a store, and every file that could not be read.</summary>
public sealed record ResultSet(IReadOnlyList<ResultRecord> Records, IReadOnlyList<LoadError> Errors);

/// <summary>
/// Result records under <c>ROOT/records/</c>, one JSON file each, named by <see cref="ResultKey.FileName"/> so a
/// re-run finds a completed cell with <see cref="Contains"/> and skips it. Writes are atomic: an interrupted run leaves
/// either the complete previous file or none, never a partial one (at most a "*.tmp" file, which readers skip).
/// </summary>
public sealed class ResultsStore
{
    /// <summary>Opens (without creating) the store rooted at <paramref name="root"/>, "results" by default.</summary>
    public ResultsStore(string root = "results")
    {
        Root = Path.GetFullPath(root);
        RecordsDirectory = Path.Combine(Root, "records");
    }

    /// <summary>The results folder (REPORT.md, the CSV export and charts go here).</summary>
    public string Root { get; }

    /// <summary>The folder holding one JSON file per record.</summary>
    public string RecordsDirectory { get; }

    /// <summary>Where the record for <paramref name="key"/> is stored.</summary>
    public string PathFor(ResultKey key) => Path.Combine(RecordsDirectory, key.FileName);

    /// <summary>Writes <paramref name="record"/> atomically under its key, replacing any earlier record of that cell. Returns the path.</summary>
    public string Save(ResultRecord record)
    {
        string path = PathFor(record.Key);
        AtomicFile.WriteAllText(path, ResultJson.Serialize(record));
        return path;
    }

    /// <summary>True when a record for <paramref name="key"/> has been written (the cell is complete).</summary>
    public bool Contains(ResultKey key) => File.Exists(PathFor(key));

    /// <summary>
    /// Reads the record for <paramref name="key"/>. Returns false when there is none; throws
    /// <see cref="InvalidDataException"/> naming the file when it exists but is corrupt or holds another cell.
    /// </summary>
    public bool TryGet(ResultKey key, out ResultRecord? record)
    {
        string path = PathFor(key);
        record = null;
        if (!File.Exists(path)) return false;
        var r = Read(path);
        if (r.Key != key)
            throw new InvalidDataException($"{path}: holds the record of {r.Key}, not of {key}");
        record = r;
        return true;
    }

    /// <summary>
    /// Loads every record, ordered by file name. Unreadable files do not stop the load: each becomes a
    /// <see cref="LoadError"/> so a report can still be written and list them. In-progress "*.tmp" files are skipped.
    /// </summary>
    public ResultSet LoadAll()
    {
        var records = new List<ResultRecord>();
        var errors = new List<LoadError>();
        if (!Directory.Exists(RecordsDirectory)) return new ResultSet(records, errors);
        foreach (string path in Directory.EnumerateFiles(RecordsDirectory, "*.json").Order(StringComparer.Ordinal))
        {
            try { records.Add(Read(path)); }
            catch (InvalidDataException e) { errors.Add(new LoadError(path, e.Message)); }
            catch (IOException e) { errors.Add(new LoadError(path, $"{path}: {e.Message}")); }
        }
        return new ResultSet(records, errors);
    }

    /// <summary>Writes every readable record as CSV (see <see cref="ResultsCsv"/>) atomically; returns the path (default ROOT/results.csv).</summary>
    public string ExportCsv(string? path = null)
    {
        path ??= Path.Combine(Root, "results.csv");
        AtomicFile.WriteAllText(path, ResultsCsv.ToCsv(LoadAll().Records));
        return path;
    }

    static ResultRecord Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (UnauthorizedAccessException e) { throw new InvalidDataException($"{path}: cannot be read: {e.Message}", e); }
        return ResultJson.Deserialize(text, path);
    }
}
