// ResultKey: the identity of one cell of a sweep and the stable file name its record is stored under.
using System.Security.Cryptography;
using System.Text;

namespace Compression.Reporting;

/// <summary>
/// What makes two measurements "the same cell": model name, format, policy, task name and seed.
/// A sweep asks <see cref="ResultsStore.Contains"/> with this key to skip completed cells.
/// </summary>
public readonly record struct ResultKey(string Model, string Format, string Policy, string Task, int Seed)
{
    /// <summary>
    /// Stable file name: readable slugs of each part plus a short hash of the exact key, so keys that slug
    /// alike ("a/b" vs "a_b") or differ only in case never share a file.
    /// </summary>
    public string FileName
    {
        get
        {
            string canonical = string.Join('\u0000', Model, Format, Policy, Task, Seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
            byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(canonical));
            string h = Convert.ToHexStringLower(hash, 0, 4);
            return $"{Slug(Model)}__{Slug(Format)}__{Slug(Policy)}__{Slug(Task)}__s{Seed}-{h}.json";
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

    public override string ToString() => $"{Model} / {Format} / {Policy} / {Task} / seed {Seed}";
}
