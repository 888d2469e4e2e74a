// Training is the same bits on every machine: libtorch's CPU code paths are pinned (NativeCpuPins), so a short run's
// final weights hash to a committed constant. CI machines differ from the one that committed it — that is the check.
using System.Runtime.Intrinsics.X86;
using Compression.Model;
using Compression.Training;

namespace Compression.Tests.Training;

public class TrainingDeterminismTests
{
    /// <summary>
    /// Weights after <see cref="ShortRun"/>, committed from an Intel Xeon with AVX-512 (where libtorch would otherwise take
    /// AVX-512 ATen kernels and MKL's AVX-512 branch). Measured there: with the pins off
    /// (ATEN_CPU_CAPABILITY=avx512 MKL_CBWR=AUTO) the same run hashes 99301ccd…, with only ATen unpinned e3a026ba…,
    /// with only MKL unpinned 8dd674e8…, with MKL_CBWR=AVX2 without STRICT bbd1323f… — each pin changes the bits.
    /// </summary>
    private const string ShortRunSha256 = "c2f5b86361b946455b90b09295db21ef4849bd93a58101de71f58bd5ead73083";

    /// <summary>
    /// The same run where MKL takes its COMPATIBLE branch (2): MKL honours <c>MKL_CBWR=AVX2</c> only on Intel CPUs, and on
    /// an AMD EPYC (Zen 5, 2026-12-01) it reported branch 2 with the pins set, so training there gives other bits than on
    /// Intel — the same bits on every run and on a resumed run, but not Intel's.
    /// </summary>
    private const string ShortRunSha256MklCompatible = "992175f264c28c42b467d58b683b5be1300e09e8771c4bd9fe9be27ed633067f";

    /// <summary>The committed hash for the MKL branch this process runs.</summary>
    private static string ExpectedShortRunSha256() => LibtorchProbe.MklBranch() switch
    {
        10 => ShortRunSha256,
        2 when !IsIntel => ShortRunSha256MklCompatible,
        var b => throw new Xunit.Sdk.XunitException($"MKL runs branch {b} on this {(IsIntel ? "Intel" : "non-Intel")} CPU; no committed hash for it"),
    };

    private static bool IsIntel
    {
        get
        {
            if (!X86Base.IsSupported) return false;
            var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
            return ebx == 0x756e6547 && edx == 0x49656e69 && ecx == 0x6c65746e; // "GenuineIntel"
        }
    }

    // 20 steps of the 2-layer GQA Llama on one thread: random init (ATen's normal sampler), forward, backward, clipping and AdamW.
    private static TrainingOptions ShortRun => TrainerTestData.TinyOptions(20) with { SequenceLength = 32, Threads = 1 };

    private static readonly int[] Train = TrainerTestData.Repetitive(3000, period: 37);
    private static readonly int[] Valid = Train[..400];

    [Fact]
    public void The_pins_reach_libtorch()
    {
        foreach (var (name, value) in NativeCpuPins.Pins)
            Assert.True(NativeCpuPins.NativeValue(name) == value,
                $"{name}={NativeCpuPins.NativeValue(name) ?? "unset"} in the native environment, pinned value {value} (set outside the process?)");
        if (!Avx2.IsSupported) return; // ATen and MKL fall back below AVX2; the supported machines all have it
        Assert.Equal("AVX2", LibtorchProbe.AtenCapability());
        int branch = LibtorchProbe.MklBranch();
        // MKL_CBWR_AVX2 (10) on Intel; on other vendors MKL ignores the AVX2 branch and takes COMPATIBLE (2).
        Assert.True(branch == 10 || (branch == 2 && !IsIntel), $"MKL branch {branch} on this {(IsIntel ? "Intel" : "non-Intel")} CPU");
    }

    [Fact]
    public void A_short_training_run_has_the_committed_weights_hash()
    {
        using var trainer = new Trainer(ShortRun, Train, Valid);
        trainer.Train();
        Assert.Equal(20, trainer.Step);
        string digest = WeightDigest.Of(trainer.NamedWeights), expected = ExpectedShortRunSha256();
        Assert.True(digest == expected, $"weights hash {digest}, committed {expected}");
    }

    [Fact]
    public void A_resumed_run_ends_on_the_same_bits()
    {
        using var dir = new TempDirectory();
        using (var first = new Trainer(ShortRun, Train, Valid, dir.Sub("run")))
            Assert.Equal(8, first.Train(stopAtStep: 8).Step);
        using var resumed = Trainer.Resume(dir.Sub("run"), Train, Valid);
        resumed.Train();
        string digest = WeightDigest.Of(resumed.NamedWeights), expected = ExpectedShortRunSha256();
        Assert.True(digest == expected, $"weights hash {digest}, committed {expected}");
    }

    [Fact]
    public void The_digest_sees_every_bit_and_every_name()
    {
        using var trainer = new Trainer(ShortRun with { TotalSteps = 2 }, Train, Valid);
        string before = WeightDigest.Of(trainer.NamedWeights);
        var (name, tensor) = trainer.NamedWeights[^1];
        using (TorchSharp.torch.no_grad())
        {
            var flat = tensor.view(-1);
            float x = flat[0].item<float>();
            flat[0] = TorchSharp.torch.tensor(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(x) ^ 1)); // the lowest mantissa bit
        }
        Assert.NotEqual(before, WeightDigest.Of(trainer.NamedWeights));
        Assert.NotEqual(WeightDigest.Of(trainer.NamedWeights), WeightDigest.Of(trainer.NamedWeights.Select(w => (w.Name == name ? name + "x" : w.Name, w.Tensor))));
    }
}
