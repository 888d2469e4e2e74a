// CalibrationSetTests: seeded windows from text and JSONL, and clear errors for empty, short or malformed files.
using Compression.Quantization.Calibration;

namespace Compression.Tests.Quantization.Calibration;

public sealed class CalibrationSetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("calib-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int[] Bytes(string text) => [0, .. System.Text.Encoding.UTF8.GetBytes(text).Select(b => (int)b)];

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Draws_n_windows_of_l_tokens_the_same_way_for_the_same_seed()
    {
        string path = Write("c.txt", string.Join("\n\n", Enumerable.Range(0, 50).Select(i => $"document number {i} with some words")));
        var a = CalibrationSet.Load(new CalibrationSpec(path, 8, 16, 5), Bytes);
        var b = CalibrationSet.Load(new CalibrationSpec(path, 8, 16, 5), Bytes);
        var c = CalibrationSet.Load(new CalibrationSpec(path, 8, 16, 6), Bytes);
        Assert.Equal(8, a.Sequences.Count);
        Assert.All(a.Sequences, s => Assert.Equal(16, s.Length));
        Assert.Equal(a.Sequences, b.Sequences);
        Assert.NotEqual(a.Sequences, c.Sequences);
    }

    [Fact]
    public void Reads_the_text_field_of_jsonl()
    {
        string path = Write("c.jsonl", "{\"text\": \"abcdefghij\"}\n\"klmnopqrst\"\n");
        var set = CalibrationSet.Load(new CalibrationSpec(path, 1, 22, 1), Bytes);
        Assert.Equal(Bytes("abcdefghij").Concat(Bytes("klmnopqrst")).ToArray(), set.Sequences[0]);
    }

    [Fact]
    public void Empty_short_and_malformed_files_are_clear_errors()
    {
        string empty = Write("empty.txt", "  \n\n ");
        Assert.Equal($"{empty}: the calibration file holds no text",
            Assert.Throws<InvalidDataException>(() => CalibrationSet.Load(new CalibrationSpec(empty), Bytes)).Message);
        string shortFile = Write("short.txt", "tiny");
        Assert.Equal($"{shortFile}: 5 tokens is too short for calibration sequences of 256 tokens",
            Assert.Throws<InvalidDataException>(() => CalibrationSet.Load(new CalibrationSpec(shortFile), Bytes)).Message);
        string bad = Write("bad.jsonl", "{\"text\": 3}\n");
        Assert.StartsWith($"{bad}: line 1:", Assert.Throws<InvalidDataException>(() => CalibrationSet.Load(new CalibrationSpec(bad), Bytes)).Message);
        Assert.Throws<FileNotFoundException>(() => CalibrationSet.Load(new CalibrationSpec(Path.Combine(_dir, "missing.txt")), Bytes));
    }
}
