// ResultKey: the identity of one cell of a sweep and the stable file name its record is stored under.
using System.Security.Cryptography;
using System.Text;

namespace Compression.Reporting;

/// <summary>
/// What makes two measurements "the same cell": model name, format, policy, task name, seed and quantization method.
/// A sweep asks <see cref="ResultsStore.Contains"/> with this key to skip completed cells.
/// </summary>
public readonly record struct ResultKey(string Model, string Format, string Policy, string Task, int Seed, string Method = ResultKey.Rtn)
{
    /// <summary>The method of records that name none: round-to-nearest (every record before methods existed).</summary>
    public const string Rtn = "rtn";

    /// <summary>
    /// Stable file name: readable slugs of each part plus a short hash of the exact key, so keys that slug
    /// alike ("a/b" vs "a_b") or differ only in case never share a file.
    /// </summary>
    public string FileName
    {
        get
        {
            // An rtn key names no method, so the files of records made before methods existed keep their names.
            bool rtn = Method == Rtn;
            string canonical = string.Join('\u0000', Model, Format, Policy, Task, Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (!rtn) canonical += "\u0000" + Method;
            byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(canonical));
            string h = Convert.ToHexStringLower(hash, 0, 4);
            return $"{Slug(Model)}__{Slug(Format)}__{Slug(Policy)}__{(rtn ? "" : Slug(Method) + "__")}{Slug(Task)}__s{Seed}-{h}.json";
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

    public override string ToString() => $"{Model} / {Format} / {Policy}{(Method == Rtn ? "" : " / " + Method)} / {Task} / seed {Seed}";
}
