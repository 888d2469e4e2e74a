// ShippedModel: a trained model committed to the repository as a folder plus manifest.json (SHA-256 and size of every
// file, the recipe that made it, what training achieved, on what machine), verified before every use.
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Compression.IO;

namespace Compression.Training;

/// <summary>One file of a shipped model as the manifest lists it.</summary>
public sealed record ShippedFile(string Path, long Bytes, string Sha256);

/// <summary>
/// A model folder whose <c>manifest.json</c> lists each file with its size and SHA-256. <see cref="Verify"/> refuses a
/// folder where any file differs, is missing or is not listed, so every machine evaluates exactly the committed weights.
/// </summary>
public static class ShippedModel
{
    public const string ManifestFileName = "manifest.json";
    /// <summary>Manifest layout version; a reader refuses another.</summary>
    public const int FormatVersion = 1;

    /// <summary>
    /// Checks every file of <paramref name="dir"/> against its manifest and returns the listed files. Throws
    /// <see cref="FileNotFoundException"/> when there is no manifest and <see cref="InvalidDataException"/> (one line
    /// naming the file) when a file is modified, missing or unlisted, or the manifest is malformed.
    /// </summary>
    public static IReadOnlyList<ShippedFile> Verify(string dir)
    {
        var files = ReadFiles(dir);
        string manifest = Path.Combine(dir, ManifestFileName);
        var listed = files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var extra in Directory.GetFiles(dir).Select(Path.GetFileName).Where(n => n != ManifestFileName && !listed.Contains(n!)).Order())
            throw new InvalidDataException($"{Path.Combine(dir, extra!)}: not listed in {manifest} (a shipped model holds exactly its listed files)");
        foreach (var file in files)
        {
            string path = Path.Combine(dir, file.Path);
            if (!File.Exists(path)) throw new InvalidDataException($"{path}: listed in {manifest} but missing");
            string actual = Sha256Of(path);
            if (actual != file.Sha256)
                throw new InvalidDataException($"{path}: SHA-256 {actual[..12]}… differs from the manifest's {file.Sha256[..12]}… — the file was modified; " +
                    "restore it (git checkout) or rebuild the model (compress train)");
            long bytes = new FileInfo(path).Length;
            if (bytes != file.Bytes) throw new InvalidDataException($"{path}: {bytes} bytes, the manifest lists {file.Bytes}");
        }
        return files;
    }

    /// <summary>The files listed in <paramref name="dir"/>'s manifest, without checking them.</summary>
    public static IReadOnlyList<ShippedFile> ReadFiles(string dir)
    {
        var root = ReadManifest(dir);
        string manifest = Path.Combine(dir, ManifestFileName);
        if (root["files"] is not JsonArray array || array.Count == 0) throw new InvalidDataException($"{manifest}: no \"files\" list");
        var files = new List<ShippedFile>();
        foreach (var node in array)
        {
            string? path = node?["path"]?.GetValue<string>(), sha = node?["sha256"]?.GetValue<string>();
            long? bytes = node?["bytes"]?.GetValue<long>();
            if (path is null || sha is null || bytes is null) throw new InvalidDataException($"{manifest}: a file entry lacks path, bytes or sha256");
            // Plain names only: the manifest must not point outside its folder.
            if (path != Path.GetFileName(path) || path is "." or ".." || path == ManifestFileName)
                throw new InvalidDataException($"{manifest}: file entry '{path}' is not a plain file name in the folder");
            if (sha.Length != 64 || !sha.All(Uri.IsHexDigit)) throw new InvalidDataException($"{manifest}: '{path}' has no 64-digit SHA-256");
            files.Add(new ShippedFile(path, bytes.Value, sha.ToLowerInvariant()));
        }
        return files;
    }

    /// <summary>The whole manifest of <paramref name="dir"/> as JSON.</summary>
    public static JsonObject ReadManifest(string dir)
    {
        string manifest = Path.Combine(dir, ManifestFileName);
        if (!File.Exists(manifest)) throw new FileNotFoundException($"{manifest}: no shipped-model manifest", manifest);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(manifest), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new InvalidDataException($"{manifest}: not valid JSON ({e.Message})", e); }
        if (root is not JsonObject obj) throw new InvalidDataException($"{manifest}: not a JSON object");
        int? version = obj["format_version"]?.GetValue<int>();
        if (version != FormatVersion) throw new InvalidDataException($"{manifest}: format_version {version?.ToString() ?? "missing"}, expected {FormatVersion}");
        return obj;
    }

    /// <summary>
    /// Writes a shipped model: copies <paramref name="files"/> into <paramref name="destination"/> (replacing what was
    /// there), hashes them, and writes the manifest — <paramref name="details"/> (recipe, training, machine …) plus the
    /// file list — last, so a folder with a manifest is complete.
    /// </summary>
    public static IReadOnlyList<ShippedFile> Write(string destination, IReadOnlyList<string> files, JsonObject details)
    {
        string full = Path.GetFullPath(destination);
        string staging = full + ".saving";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        var listed = new List<ShippedFile>();
        foreach (var source in files.OrderBy(Path.GetFileName, StringComparer.Ordinal))
        {
            string name = Path.GetFileName(source);
            string target = Path.Combine(staging, name);
            File.Copy(source, target);
            listed.Add(new ShippedFile(name, new FileInfo(target).Length, Sha256Of(target)));
        }
        var manifest = new JsonObject { ["format_version"] = FormatVersion };
        foreach (var (key, value) in details) manifest[key] = value?.DeepClone();
        manifest["files"] = new JsonArray(listed.Select(f => (JsonNode)new JsonObject
        {
            ["path"] = f.Path, ["bytes"] = f.Bytes, ["sha256"] = f.Sha256,
        }).ToArray());
        AtomicFile.WriteAllBytes(Path.Combine(staging, ManifestFileName),
            System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString(new JsonSerializerOptions
            {
                WriteIndented = true,
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file, not HTML: keep ' and ` readable
            }) + "\n"));
        if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
        Directory.Move(staging, full);
        return listed;
    }

    /// <summary>Lower-case hex SHA-256 of a file's bytes.</summary>
    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
