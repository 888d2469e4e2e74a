// CheckpointDirectory: replaces a checkpoint directory as a whole, so a reader never sees a half-written one.
namespace Compression.Training;

/// <summary>
/// A checkpoint is written into <c>DIR.saving</c>, then swapped in: the last good checkpoint is renamed
/// to <c>DIR.previous</c>, the new one renamed to <c>DIR</c>, and the previous one deleted. A crash at
/// any point leaves either <c>DIR</c> or <c>DIR.previous</c> complete; <see cref="Recover"/> restores it.
/// </summary>
public static class CheckpointDirectory
{
    public static string SavingPath(string directory) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)) + ".saving";
    public static string PreviousPath(string directory) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)) + ".previous";

    /// <summary>Writes a complete checkpoint with <paramref name="writeContents"/> (given the temp directory) and swaps it in.</summary>
    public static void Save(string directory, Action<string> writeContents)
    {
        directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        Recover(directory);
        string saving = SavingPath(directory), previous = PreviousPath(directory);
        if (Directory.Exists(saving)) Directory.Delete(saving, recursive: true); // an earlier save that died midway
        Directory.CreateDirectory(saving);
        writeContents(saving);
        if (Directory.Exists(directory)) Directory.Move(directory, previous);
        Directory.Move(saving, directory);
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
    }

    /// <summary>
    /// When a save died between its two renames, <c>DIR</c> is missing and <c>DIR.previous</c> holds the last
    /// good checkpoint: move it back. A leftover <c>DIR.saving</c> is incomplete and is ignored.
    /// </summary>
    public static void Recover(string directory)
    {
        string previous = PreviousPath(directory);
        if (!Directory.Exists(directory) && Directory.Exists(previous)) Directory.Move(previous, directory);
        else if (Directory.Exists(directory) && Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
    }
}
