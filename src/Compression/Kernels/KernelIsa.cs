// KernelIsa: the single runtime dispatch point — which instruction-set level the kernels use on this machine.
using System.Runtime.Intrinsics.X86;

namespace Compression.Kernels;

/// <summary>Instruction-set levels the kernels are written for, lowest first.</summary>
public enum IsaLevel
{
    /// <summary>Plain C# loops: the references every SIMD path is tested against.</summary>
    Scalar = 0,
    /// <summary>AVX2 + FMA (every machine the workbench targets).</summary>
    Avx2 = 1,
    /// <summary>AVX-512 F/BW/VL on 512-bit vectors.</summary>
    Avx512 = 2,
}

/// <summary>
/// Every kernel asks <see cref="Current"/> which path to run, once per call on the calling thread.
/// The level is the best the CPU has, capped by the environment variable <c>COMPRESS_ISA</c>
/// (<c>scalar</c>, <c>avx2</c>, <c>avx512</c>) and, for tests, by <see cref="Override"/> on the
/// calling thread only — so the AVX2 and scalar paths run (and are tested) on an AVX-512 machine.
/// The AVX2 and AVX-512 paths of every kernel accumulate in the same order, so they give
/// bit-identical results: a model evaluates the same on both kinds of machine.
/// </summary>
public static class KernelIsa
{
    public const string EnvironmentVariable = "COMPRESS_ISA";

    /// <summary>Best level this CPU (and this .NET runtime) supports.</summary>
    public static readonly IsaLevel Detected = Detect();

    private static int _environment = -1;
    [ThreadStatic] private static int _override; // 0 = none, else level + 1
    [ThreadStatic] private static bool _noExtensions;
    private static readonly bool VnniFromEnvironment = AvxVnni.IsSupported
        && Environment.GetEnvironmentVariable(VnniVariable)?.Trim().ToLowerInvariant() is not ("0" or "off" or "false");

    /// <summary><c>COMPRESS_VNNI=off</c> keeps the integer kernels on AVX2's multiply-add pairs where the CPU has AVX-VNNI.</summary>
    public const string VnniVariable = "COMPRESS_VNNI";

    /// <summary>
    /// Whether the integer kernels at the AVX2 and AVX-512 levels use AVX-VNNI's 256-bit <c>vpdpbusd</c> (one
    /// instruction for maddubs + madd + add; the integer sums are the same, so the results are the same bits).
    /// .NET 10 exposes no 512-bit VNNI on CPUs without AVX10, so the 256-bit form is the one there is.
    /// </summary>
    public static bool Vnni => VnniFromEnvironment && !_noExtensions && Current >= IsaLevel.Avx2;

    /// <summary>Whether the AVX-512 kernels use AVX-512 VBMI (byte permutes and multishifts; same bits as without).</summary>
    public static bool Vbmi => Avx512Vbmi.IsSupported && !_noExtensions && Current >= IsaLevel.Avx512;

    /// <summary>Turns the optional extensions (<see cref="Vnni"/>, <see cref="Vbmi"/>) off on the calling thread until the
    /// result is disposed, so the paths for CPUs without them run (and are tested) on one that has them.</summary>
    public static IDisposable WithoutExtensions()
    {
        bool previous = _noExtensions;
        _noExtensions = true;
        return new RestoreExtensions(previous);
    }

    private sealed class RestoreExtensions(bool previous) : IDisposable
    {
        public void Dispose() => _noExtensions = previous;
    }

    /// <summary>The level kernels called from this thread use.</summary>
    public static IsaLevel Current
    {
        get
        {
            if (_override != 0) return (IsaLevel)(_override - 1);
            if (_environment < 0) _environment = (int)FromEnvironment(Environment.GetEnvironmentVariable(EnvironmentVariable));
            return (IsaLevel)_environment;
        }
    }

    /// <summary>Levels this machine can run, lowest first (what tests iterate over).</summary>
    public static IEnumerable<IsaLevel> Supported()
    {
        for (var l = IsaLevel.Scalar; l <= Detected; l++) yield return l;
    }

    /// <summary>Whether <paramref name="level"/> runs on this machine.</summary>
    public static bool IsSupported(IsaLevel level) => level <= Detected;

    /// <summary>Forces <paramref name="level"/> on the calling thread until the result is disposed.</summary>
    public static IDisposable Override(IsaLevel level)
    {
        if (!IsSupported(level)) throw new NotSupportedException($"ISA level {level} is not supported by this CPU (best: {Detected})");
        int previous = _override;
        _override = (int)level + 1;
        return new Restore(previous);
    }

    /// <summary>Parses a <c>COMPRESS_ISA</c> value; null or empty means "the best detected".</summary>
    public static IsaLevel FromEnvironment(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return Detected;
        IsaLevel level = value.Trim().ToLowerInvariant() switch
        {
            "scalar" => IsaLevel.Scalar,
            "avx2" => IsaLevel.Avx2,
            "avx512" => IsaLevel.Avx512,
            _ => throw new NotSupportedException($"{EnvironmentVariable}={value}: expected scalar, avx2 or avx512"),
        };
        if (!IsSupported(level))
            throw new NotSupportedException($"{EnvironmentVariable}={value}: this CPU supports at most {Detected.ToString().ToLowerInvariant()}");
        return level;
    }

    private static IsaLevel Detect()
    {
        if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512F.VL.IsSupported && Avx512BW.VL.IsSupported && Fma.IsSupported && Avx2.IsSupported)
            return IsaLevel.Avx512;
        if (Avx2.IsSupported && Fma.IsSupported) return IsaLevel.Avx2;
        return IsaLevel.Scalar;
    }

    private sealed class Restore(int previous) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _override = previous;
        }
    }
}
