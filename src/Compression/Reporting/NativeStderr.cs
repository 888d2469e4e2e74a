// NativeStderr: silences native writes to stderr for a moment — Skia's SVG backend prints "Unsupported path
// effect in addPaint" for every dashed line it exports (the SVG is still right: it draws the line solid).
using System.Runtime.InteropServices;

namespace Compression.Reporting;

internal static partial class NativeStderr
{
    [LibraryImport("libc", EntryPoint = "dup")] private static partial int Dup(int fd);
    [LibraryImport("libc", EntryPoint = "dup2")] private static partial int Dup2(int oldFd, int newFd);
    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)] private static partial int Open(string path, int flags);
    [LibraryImport("libc", EntryPoint = "close")] private static partial int Close(int fd);

    /// <summary>Points file descriptor 2 at /dev/null until disposed (Linux only; elsewhere a no-op).</summary>
    public static IDisposable Silenced()
    {
        if (!OperatingSystem.IsLinux()) return new Restore(-1);
        try
        {
            Console.Error.Flush();
            int saved = Dup(2);
            int devNull = Open("/dev/null", 1 /* O_WRONLY */);
            if (saved < 0 || devNull < 0) return new Restore(saved);
            Dup2(devNull, 2);
            Close(devNull);
            return new Restore(saved);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return new Restore(-1); }
    }

    private sealed class Restore(int saved) : IDisposable
    {
        public void Dispose()
        {
            if (saved < 0) return;
            Dup2(saved, 2);
            Close(saved);
        }
    }
}
