// BuildInfo: which build of the workbench produced a result — version and git commit.
using System.Diagnostics;
using System.Reflection;

namespace Compression.Reporting;

/// <summary>Tool version and git commit, determined once per process. Never throws: a missing git gives the build-time commit or null.</summary>
public static class BuildInfo
{
    static readonly Lazy<string?> s_commit = new(FindCommit);

    /// <summary>The informational version without the "+commit" suffix ("1.0.0").</summary>
    public static string ToolVersion
    {
        get
        {
            string v = InformationalVersion;
            int plus = v.IndexOf('+');
            return plus < 0 ? v : v[..plus];
        }
    }

    /// <summary>
    /// The git commit: <c>git rev-parse HEAD</c> run in the folder the library was loaded from (inside the repo for a
    /// source build); when git or the repo is absent, the commit the SDK stamped into the assembly's informational
    /// version at build time; otherwise null.
    /// </summary>
    public static string? GitCommit => s_commit.Value;

    static string InformationalVersion =>
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(BuildInfo).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    static string? FindCommit() => RunGit(AppContext.BaseDirectory) ?? CommitFromAssembly();

    internal static string? CommitFromAssembly()
    {
        string v = InformationalVersion;
        int plus = v.IndexOf('+');
        if (plus < 0) return null;
        string sha = v[(plus + 1)..];
        return IsSha(sha) ? sha : null;
    }

    /// <summary>Runs <c>git rev-parse HEAD</c> in <paramref name="directory"/>; null on any failure (no git, not a repo, timeout).</summary>
    internal static string? RunGit(string directory)
    {
        try
        {
            var psi = new ProcessStartInfo("git", ["-C", directory, "rev-parse", "HEAD"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var p = Process.Start(psi);
            if (p is null) return null;
            var stdout = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(5000)) { try { p.Kill(); } catch (InvalidOperationException) { } return null; }
            string sha = stdout.Result.Trim();
            return p.ExitCode == 0 && IsSha(sha) ? sha : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    static bool IsSha(string s) => s.Length is 40 or 64 && s.All(Uri.IsHexDigit);
}
