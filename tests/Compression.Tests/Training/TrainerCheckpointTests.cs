// Trainer checkpoints: resume continues the same curve; files appear only complete; cancellation saves.
using Compression.Checkpoints.Safetensors;
using Compression.Training;
using static TorchSharp.torch;

namespace Compression.Tests.Training;

public class TrainerCheckpointTests
{
    private static readonly int[] Train = TrainerTestData.Repetitive(3000, period: 37);
    private static readonly int[] Valid = TrainerTestData.Repetitive(400, period: 37);

    [Fact]
    public void Resume_continues_the_same_curve()
    {
        using var dir = new TempDirectory();
        var options = TrainerTestData.TinyOptions(10) with { EvalInterval = 5 };

        using var straight = new Trainer(options, Train, Valid);
        straight.Train();

        using (var first = new Trainer(options, Train, Valid, dir.Sub("run")))
            Assert.Equal(5, first.Train(stopAtStep: 5).Step);
        using var resumed = Trainer.Resume(dir.Sub("run"), Train, Valid);
        Assert.Equal(5, resumed.Step);
        resumed.Train();

        var expected = TrainerTestData.Losses(straight);
        var actual = TrainerTestData.Losses(resumed);
        Assert.Equal(10, actual.Length); // history carried across the resume
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5);
        Assert.Equal(straight.Evaluations.Select(e => e.Step), resumed.Evaluations.Select(e => e.Step));
        Assert.Equal(straight.Evaluations[^1].Loss, resumed.Evaluations[^1].Loss, 1e-5);
        foreach (var ((name, a), (_, b)) in straight.NamedWeights.Zip(resumed.NamedWeights))
            Assert.True((a - b).abs().max().item<float>() < 1e-5f, name);
    }

    [Fact]
    public void A_checkpoint_is_an_hf_directory_with_the_model_weights()
    {
        using var dir = new TempDirectory();
        using var trainer = new Trainer(TrainerTestData.TinyOptions(3), Train, Valid, dir.Sub("run"));
        trainer.Train();
        Assert.Equal(["config.json", "model.safetensors", Trainer.OptimizerFileName, TrainerState.FileName],
            Directory.GetFiles(dir.Sub("run")).Select(Path.GetFileName).Order());
        Assert.Equal(["run"], Directory.GetFileSystemEntries(dir.Root).Select(Path.GetFileName)); // no .saving / .previous left
        using var checkpoint = SafetensorsCheckpoint.Open(dir.Sub("run"));
        Assert.Equal(TrainerTestData.TinyConfig.HiddenSize, checkpoint.Config.HiddenSize);
        foreach (var (name, t) in trainer.NamedWeights)
            Assert.Equal(t.detach().flatten().data<float>().ToArray(), checkpoint[name].ToFloat32());
        Assert.Equal(3, TrainerState.Load(Path.Combine(dir.Sub("run"), TrainerState.FileName)).Step);
    }

    [Fact]
    public void An_interrupted_save_leaves_the_last_good_checkpoint()
    {
        using var dir = new TempDirectory();
        var store = new FailingStore();
        var options = TrainerTestData.TinyOptions(6) with { CheckpointInterval = 2 };
        using (var trainer = new Trainer(options, Train, Valid, dir.Sub("run"), store))
        {
            store.FailOnWrite = 2; // the checkpoint at step 4 dies after its weights are half written
            Assert.Throws<IOException>(() => trainer.Train());
            Assert.Equal(4, trainer.Step);
        }
        Assert.True(Directory.Exists(CheckpointDirectory.SavingPath(dir.Sub("run")))); // the broken attempt, never swapped in
        Assert.Equal(2, TrainerState.Load(Path.Combine(dir.Sub("run"), TrainerState.FileName)).Step);

        using var resumed = Trainer.Resume(dir.Sub("run"), Train, Valid);
        Assert.Equal(2, resumed.Step);
        resumed.Train();
        Assert.Equal(["run"], Directory.GetFileSystemEntries(dir.Root).Select(Path.GetFileName)); // the next save cleaned up
    }

    [Fact]
    public void A_save_that_died_between_its_renames_is_recovered()
    {
        using var dir = new TempDirectory();
        using (var trainer = new Trainer(TrainerTestData.TinyOptions(4), Train, Valid, dir.Sub("run")))
            trainer.Train(stopAtStep: 2);
        Directory.Move(dir.Sub("run"), CheckpointDirectory.PreviousPath(dir.Sub("run"))); // state after the first rename
        using var resumed = Trainer.Resume(dir.Sub("run"), Train, Valid);
        Assert.Equal(2, resumed.Step);
    }

    [Fact]
    public void Cancellation_stops_after_the_current_step_and_saves()
    {
        using var dir = new TempDirectory();
        using var cts = new CancellationTokenSource();
        using var trainer = new Trainer(TrainerTestData.TinyOptions(10), Train, Valid, dir.Sub("run"));
        var result = trainer.Train(p => { if (p.Step == 3) cts.Cancel(); }, cts.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(3, result.Step);
        Assert.Equal(dir.Sub("run"), result.CheckpointDirectory);
        Assert.Equal(3, TrainerState.Load(Path.Combine(dir.Sub("run"), TrainerState.FileName)).Step);
    }

    [Fact]
    public void Resume_with_different_tokens_is_refused()
    {
        using var dir = new TempDirectory();
        using (var trainer = new Trainer(TrainerTestData.TinyOptions(4), Train, Valid, dir.Sub("run")))
            trainer.Train(stopAtStep: 2);
        var other = (int[])Train.Clone();
        other[100] = (other[100] + 1) % 32;
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Resume(dir.Sub("run"), other, Valid));
        Assert.Contains("different tokens", e.Message);
    }

    [Fact]
    public void A_corrupt_trainer_state_is_named_in_the_error()
    {
        using var dir = new TempDirectory();
        using (var trainer = new Trainer(TrainerTestData.TinyOptions(4), Train, Valid, dir.Sub("run")))
            trainer.Train(stopAtStep: 2);
        string statePath = Path.Combine(dir.Sub("run"), TrainerState.FileName);
        File.WriteAllText(statePath, "{ \"step\": 2, ");
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Resume(dir.Sub("run"), Train, Valid));
        Assert.Contains(statePath, e.Message);
    }

    /// <summary>Writes real safetensors but throws partway through the N-th write, as a crash or full disk would.</summary>
    private sealed class FailingStore : ITrainingWeightStore
    {
        private readonly SafetensorsWeightStore _inner = new();
        private int _writes;
        public int FailOnWrite { get; set; } = int.MaxValue;

        public void Write(string directory, IReadOnlyList<(string Name, Tensor Tensor)> weights)
        {
            if (++_writes != FailOnWrite) { _inner.Write(directory, weights); return; }
            File.WriteAllBytes(Path.Combine(directory, SafetensorsCheckpoint.SingleFileName), new byte[100]);
            throw new IOException("simulated failure while writing weights");
        }

        public void ReadInto(string directory, IReadOnlyDictionary<string, Tensor> destination) => _inner.ReadInto(directory, destination);
    }
}
