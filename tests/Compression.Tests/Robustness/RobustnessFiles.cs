// RobustnessFiles: helpers the robustness tests share — fixture copies with a patched file, the CLI as a child process.
using System.Diagnostics;

namespace Compression.Tests.Robustness;

internal static class RobustnessFiles
{
    /// <summary>A copy of the tiny-llama3 checkpoint (config, safetensors, tokenizer) in a fresh folder.</summary>
    public static string CopyFixture(string tag)
    {
        string dir = TestPaths.NewTempDir(tag);
        foreach (var f in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
            File.Copy(TestPaths.TinyLlamaFile(f), Path.Combine(dir, f));
        return dir;
    }

    /// <summary>Runs the built CLI (compress.dll beside the tests) and returns its exit code and both streams.</summary>
    public static (int Exit, string Out, string Err) RunCli(IEnumerable<string> args, IDictionary<string, string>? env = null, int timeoutMs = 120_000)
    {
        var psi = Cli(args, env);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"compress {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The start info of <c>dotnet compress.dll ARGS</c> with redirected streams.</summary>
    public static ProcessStartInfo Cli(IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "compress.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("COMPRESS_VERBOSE");
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>Runs a shell tool (mkfifo, mount); returns its exit code (−1 when it cannot start).</summary>
    public static int Tool(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.WaitForExit(30_000);
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception) { return -1; }
    }
}
