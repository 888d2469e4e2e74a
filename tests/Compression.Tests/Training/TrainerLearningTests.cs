// Trainer: a few steps on repetitive data lower training and validation loss; HF parameter names.
using Compression.Checkpoints;
using Compression.Model;
using Compression.Training;

namespace Compression.Tests.Training;

public class TrainerLearningTests
{
    [Fact]
    public void A_few_steps_lower_the_loss_on_repetitive_data()
    {
        var data = TrainerTestData.Repetitive(2000);
        using var trainer = new Trainer(TrainerTestData.TinyOptions(30), data, data.AsMemory(0, 400));
        double before = trainer.ValidationLoss();
        Assert.InRange(before, Math.Log(32) - 0.5, Math.Log(32) + 0.5); // random init predicts ~uniformly
        var result = trainer.Train();
        var losses = TrainerTestData.Losses(trainer);
        Assert.Equal(30, result.Step);
        Assert.Equal(30, losses.Length);
        Assert.True(losses[^5..].Average() < losses[0] - 1.5, $"loss {losses[0]:F3} -> {losses[^5..].Average():F3}");
        Assert.True(trainer.ValidationLoss() < before - 1.5);
    }

    [Fact]
    public void Periodic_validation_is_reported_in_progress_and_history()
    {
        var data = TrainerTestData.Repetitive(2000);
        using var trainer = new Trainer(TrainerTestData.TinyOptions(10) with { EvalInterval = 4 }, data, data.AsMemory(0, 400));
        var reports = new List<TrainingProgress>();
        trainer.Train(reports.Add);
        Assert.Equal(Enumerable.Range(1, 10), reports.Select(r => r.Step));
        Assert.Equal([4, 8, 10], reports.Where(r => r.ValidationLoss is not null).Select(r => r.Step)); // every 4 and after the last
        Assert.Equal([4, 8, 10], trainer.Evaluations.Select(e => e.Step));
        Assert.All(reports, r => Assert.True(r.TokensPerSecond > 0));
        Assert.Equal(Math.Exp(trainer.Evaluations[^1].Loss), reports[^1].ValidationPerplexity!.Value, 9);
    }

    [Fact]
    public void Steps_and_validation_leave_no_live_tensors_behind()
    {
        var data = TrainerTestData.Repetitive(2000);
        using var trainer = new Trainer(TrainerTestData.TinyOptions(40) with { EvalInterval = 5 }, data, data.AsMemory(0, 400));
        trainer.Train(stopAtStep: 5); // the first steps create the gradients and Adam moments that persist
        long live = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        trainer.Train(stopAtStep: 35);
        Assert.Equal(live, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Named_weights_are_exactly_the_hf_tensors_of_the_config()
    {
        var data = TrainerTestData.Repetitive(200);
        using var trainer = new Trainer(TrainerTestData.TinyOptions(), data, data);
        var expected = LlamaTensorLayout.Expected(TrainerTestData.TinyConfig);
        Assert.Equal(expected.Select(s => s.Name).Order(), trainer.NamedWeights.Select(w => w.Name).Order());
        foreach (var (name, t) in trainer.NamedWeights)
            Assert.Equal(expected.Single(s => s.Name == name).Shape, t.shape);
    }

    [Fact]
    public void A_tied_model_trains_one_embedding_matrix_and_saves_no_lm_head()
    {
        // Llama 3.2 1B/3B tie the LM head to the embedding; the trainer must learn through both uses of the one matrix.
        var data = TrainerTestData.Repetitive(400);
        var options = TrainerTestData.TinyOptions(20) with { Config = TrainerTestData.TinyConfig with { TieWordEmbeddings = true } };
        using var dir = new TempDirectory();
        using var trainer = new Trainer(options, data, data, dir.Sub("run"));
        Assert.DoesNotContain(trainer.NamedWeights, w => w.Name == "lm_head.weight");
        trainer.Train();
        var losses = TrainerTestData.Losses(trainer);
        Assert.True(losses[^3..].Average() < losses[..3].Average() - 0.5, string.Join(", ", losses));

        using var saved = CheckpointOpener.Open(dir.Sub("run"));
        Assert.True(saved.Config.TieWordEmbeddings);
        Assert.DoesNotContain("lm_head.weight", saved.Tensors.Keys);
        using var reloaded = ModelLoader.Load(saved);
        var window = data.AsSpan(0, 16);
        var expected = trainer.Model.Logits(window);
        var actual = reloaded.Logits(window);
        for (int t = 0; t < expected.GetLength(0); t++)
            for (int v = 0; v < expected.GetLength(1); v++) Assert.Equal(expected[t, v], actual[t, v], 4);
    }

    [Fact]
    public void Tokens_outside_the_vocabulary_are_rejected()
    {
        var data = TrainerTestData.Repetitive(200);
        data[57] = 32;
        var e = Assert.Throws<ArgumentException>(() => new Trainer(TrainerTestData.TinyOptions(), data, data));
        Assert.Contains("token 57", e.Message);
    }
}
