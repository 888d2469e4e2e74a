// ISweepProgress: what a running sweep tells a display — the plan, the current activity and its progress, finished cells.
using Compression.Evaluation;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>
/// Receives a sweep's progress, synchronously on the sweep's thread. The CLI renders it with Spectre.Console;
/// tests record it (and may cancel from <see cref="CellFinished"/>).
/// </summary>
public interface ISweepProgress
{
    /// <summary>The plan: <paramref name="totalCells"/> cells, of which <paramref name="alreadyDone"/> were found in the store and are skipped.</summary>
    void Planned(int totalCells, int alreadyDone);

    /// <summary>A new activity begins ("loading model", "quantizing q4_0 (default)", or a cell).</summary>
    void Activity(string description, SweepCell? cell = null);

    /// <summary>Progress of the current activity (tokens, documents, runs, tensors).</summary>
    void Progress(EvaluationProgress progress);

    /// <summary>A cell finished and its record was written.</summary>
    void CellFinished(SweepCell cell, ResultRecord record);
}

/// <summary>Progress that goes nowhere.</summary>
public sealed class NullSweepProgress : ISweepProgress
{
    public static readonly NullSweepProgress Instance = new();
    public void Planned(int totalCells, int alreadyDone) { }
    public void Activity(string description, SweepCell? cell = null) { }
    public void Progress(EvaluationProgress progress) { }
    public void CellFinished(SweepCell cell, ResultRecord record) { }
}

/// <summary>An <see cref="IProgress{T}"/> that forwards on the calling thread (unlike <see cref="Progress{T}"/>, which posts).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
