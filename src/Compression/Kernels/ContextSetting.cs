// ContextSetting: a setting that a scope overrides for the code it calls, flowing with the calling (async) context.
namespace Compression.Kernels;

/// <summary>
/// A value set for a scope with <see cref="Use"/> — until the result is disposed, for the calling context and what it
/// awaits or starts — and <see cref="Value"/> otherwise. Kernels read it on the calling thread before they fan out.
/// </summary>
internal sealed class ContextSetting<T>(T fallback) where T : struct
{
    private readonly AsyncLocal<T?> _scoped = new();

    public T Value => _scoped.Value ?? fallback;

    public IDisposable Use(T value)
    {
        var previous = _scoped.Value;
        _scoped.Value = value;
        return new Restore(this, previous);
    }

    private sealed class Restore(ContextSetting<T> setting, T? previous) : IDisposable
    {
        public void Dispose() => setting._scoped.Value = previous;
    }
}
