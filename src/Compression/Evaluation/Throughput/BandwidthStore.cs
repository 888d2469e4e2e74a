// BandwidthStore: a measured read bandwidth kept beside the results (bandwidth.json), reused by later runs on the
// same machine description and thread count so every throughput record can carry its roofline.
using System.Text.Json;
using Compression.IO;
using Compression.Reporting;

namespace Compression.Evaluation.Throughput;

/// <summary>A bandwidth measurement with the machine it was taken on.</summary>
public sealed record StoredBandwidth(double BytesPerSecond, double MedianBytesPerSecond, int Threads, long Bytes, int Passes,
    string Machine, DateTimeOffset TimeUtc);

public static class BandwidthStore
{
    public const string FileName = "bandwidth.json";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Saves <paramref name="result"/> under <paramref name="root"/> (atomically), stamped with this machine.</summary>
    public static StoredBandwidth Save(string root, BandwidthResult result)
    {
        var stored = new StoredBandwidth(result.BytesPerSecond, result.MedianBytesPerSecond, result.Threads, result.Bytes, result.Passes,
            MachineInfo.Current.Summary, DateTimeOffset.UtcNow);
        AtomicFile.WriteAllText(Path.Combine(root, FileName), JsonSerializer.Serialize(stored, Json) + "\n");
        return stored;
    }

    /// <summary>The stored measurement when it was taken on this machine with <paramref name="threads"/> threads; else null.</summary>
    public static StoredBandwidth? TryLoad(string root, int threads)
    {
        string path = Path.Combine(root, FileName);
        if (!File.Exists(path)) return null;
        StoredBandwidth? stored;
        try { stored = JsonSerializer.Deserialize<StoredBandwidth>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a bandwidth record ({e.Message})"); }
        return stored is not null && stored.Threads == threads && stored.Machine == MachineInfo.Current.Summary && stored.BytesPerSecond > 0 ? stored : null;
    }
}
