// ResultKey: the identity of one cell of a sweep and the stable file name its record is stored under.
using System.Security.Cryptography;
using System.Text;

namespace Compression.Reporting;

/// <summary>
/// What makes two measurements "the same cell": model name, format, policy, task name, seed and quantization method.
/// A sweep asks <see cref="ResultsStore.Contains"/> with this key to skip completed cells.
/// </summary>
public readonly record struct ResultKey(string Model, string Format, string Policy, string Task, int Seed, string Method = ResultKey.Rtn,
    // Not in a record's "key" JSON: the records of every engine keep their committed text; the engine is in the record's
    // settings and in the file name.
    [property: System.Text.Json.Serialization.JsonIgnore] string Engine = ResultKey.DefaultEngine)
{
    /// <summary>The method of records that name none: round-to-nearest (every record before methods existed).</summary>
    public const string Rtn = "rtn";

    /// <summary>The engine of records that name none: the workbench's own TorchSharp forward.</summary>
    public const string DefaultEngine = "torchsharp";

    /// <summary>
    /// True when the engine is already part of the task name (<c>throughput.llama.cpp</c>, the benchmark's side-by-side
    /// convention) or is the default: then neither the file name nor the report row names it again.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool EngineImplied => Engine == DefaultEngine || Task.EndsWith("." + Engine, StringComparison.Ordinal);

    /// <summary>
    /// Stable file name: readable slugs of each part plus a short hash of the exact key, so keys that slug
    /// alike ("a/b" vs "a_b") or differ only in case never share a file.
    /// </summary>
    public string FileName
    {
        get
        {
            // An rtn key names no method, so the files of records made before methods existed keep their names.
            // Likewise a key whose engine is implied names none, so the committed records of every engine keep their names.
            bool rtn = Method == Rtn, implied = EngineImplied;
            string canonical = string.Join('\u0000', Model, Format, Policy, Task, Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (!rtn) canonical += "\u0000" + Method;
            if (!implied) canonical += "\u0000engine\u0000" + Engine;
            byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(canonical));
            string h = Convert.ToHexStringLower(hash, 0, 4);
            return $"{Slug(Model)}__{Slug(Format)}__{Slug(Policy)}__{(rtn ? "" : Slug(Method) + "__")}{(implied ? "" : Slug(Engine) + "__")}{Slug(Task)}__s{Seed}-{h}.json";
        }
    }

    /// <summary>Lower-case letters, digits, '.', '-' kept; everything else becomes '_'; at most 60 characters.</summary>
    public static string Slug(string text)
    {
        var sb = new StringBuilder(Math.Min(text.Length, 60));
        foreach (char c in text)
        {
            if (sb.Length == 60) break;
            char l = char.ToLowerInvariant(c);
            sb.Append(l is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '-' ? l : '_');
        }
        return sb.Length == 0 ? "_" : sb.ToString();
    }

    public override string ToString() =>
        $"{Model} / {Format} / {Policy}{(Method == Rtn ? "" : " / " + Method)}{(EngineImplied ? "" : " / " + Engine)} / {Task} / seed {Seed}";
}
