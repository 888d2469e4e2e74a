// ModelPresets: named models a spec can ask for ({"preset": "proxy"}) — each resolves to a checkpoint path, building it if needed.
using System.Collections.Concurrent;

namespace Compression.Experiments;

/// <summary>
/// A registry of model presets. A preset is a function that makes sure its checkpoint exists (training or
/// generating it when it does not, reusing it when it does) and returns its path. The CLI registers the built-in ones.
/// </summary>
public static class ModelPresets
{
    private static readonly ConcurrentDictionary<string, Func<IProgress<string>?, CancellationToken, string>> s_presets =
        new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers (or replaces) preset <paramref name="name"/>.</summary>
    public static void Register(string name, Func<IProgress<string>?, CancellationToken, string> resolve)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(resolve);
        s_presets[name] = resolve;
    }

    /// <summary>Names of the registered presets, sorted.</summary>
    public static IReadOnlyList<string> Names => s_presets.Keys.Order(StringComparer.OrdinalIgnoreCase).ToArray();

    /// <summary>True when <paramref name="name"/> is registered.</summary>
    public static bool Contains(string name) => s_presets.ContainsKey(name);

    /// <summary>Runs preset <paramref name="name"/> and returns its checkpoint path; unknown names throw listing the known ones.</summary>
    public static string Resolve(string name, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!s_presets.TryGetValue(name, out var resolve))
            throw new ArgumentException($"no model preset '{name}'; registered: {(s_presets.IsEmpty ? "none" : string.Join(", ", Names))}");
        return resolve(progress, cancellationToken);
    }
}
