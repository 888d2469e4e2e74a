// GptqCheckpoint: a GPTQ-layout Hugging Face folder opened as a checkpoint — its linears packed in GptqFormat,
// everything else read in place as fp16 — so every command that takes --model runs it.
using System.Text.Json;
using Compression.Export.HfGptq;
using Compression.Model;
using Compression.Quantization;
using Compression.Quantization.Formats;
using Compression.Tokenization;

namespace Compression.Checkpoints.Gptq;

/// <summary>
/// GPTQ packs codes along the input dimension across all output rows, which no row-wise kernel can read in place,
/// so opening re-lays each linear once (one at a time) into <see cref="GptqFormat"/> rows in a scratch file beside
/// the system temp folder, maps it and unlinks it: the packed bytes then live in the page cache, like a mapped
/// checkpoint's, and vanish with the last reader. fp16 tensors (embedding, norms, unquantized head) map in place.
/// </summary>
public sealed class GptqCheckpoint : Checkpoint
{
    private readonly GptqCheckpointReader _reader;
    private readonly MappedFile _scratch;
    private readonly Dictionary<string, StoredTensor> _tensors;

    private GptqCheckpoint(GptqCheckpointReader reader, MappedFile scratch, Dictionary<string, StoredTensor> tensors)
    {
        _reader = reader; _scratch = scratch; _tensors = tensors;
    }

    public override string Path => _reader.Path;
    public override LlamaConfig Config => _reader.Config;
    public override IReadOnlyDictionary<string, StoredTensor> Tensors => _tensors;
    public override string Kind => "gptq";

    /// <summary>True when <paramref name="dir"/>/config.json has a quantization_config with quant_method gptq.</summary>
    public static bool IsGptq(string dir)
    {
        string config = System.IO.Path.Combine(dir, "config.json");
        if (!File.Exists(config)) return false;
        try
        {
            using var doc = JsonDocument.Parse(Compression.IO.InputFile.ReadAllText(config, Model.LlamaConfig.MaxFileBytes, "a config.json"));
            return doc.RootElement.TryGetProperty("quantization_config", out var q) && q.ValueKind == JsonValueKind.Object
                && q.TryGetProperty("quant_method", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() == "gptq";
        }
        catch (JsonException) { return false; } // the ordinary loader reports a malformed config.json
    }

    public static GptqCheckpoint Open(string dir)
    {
        var reader = GptqCheckpointReader.Open(dir);
        string scratchPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"compression-gptq-{Guid.NewGuid():N}.bin");
        try
        {
            // One format per group length: a single one, or per row (group_size −1) one per distinct row length.
            var formats = new Dictionary<int, GptqFormat>();
            var specs = LlamaTensorLayout.Expected(reader.Config);
            var offsets = new Dictionary<string, (long Offset, GptqFormat Format)>();
            using (var fs = new FileStream(scratchPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                foreach (var spec in specs.Where(s => reader.IsQuantized(s.Name)))
                {
                    var linear = reader.Linear(spec.Name);
                    if (linear.Rows != spec.Shape[0] || linear.Cols != spec.Shape[1])
                        throw new InvalidDataException($"{dir}: {spec.Name} is [{linear.Rows}, {linear.Cols}] but the config implies [{string.Join(", ", spec.Shape)}]");
                    while (fs.Position % PackedWeight.MapAlignment != 0) fs.WriteByte(0);
                    if (!formats.TryGetValue(linear.GroupSize, out var format))
                        formats[linear.GroupSize] = format = new GptqFormat(reader.Bits, linear.GroupSize, reader.Symmetric);
                    offsets[spec.Name] = (fs.Position, format);
                    int groups = linear.Cols / linear.GroupSize;
                    var row = new byte[format.RowBytes(linear.Cols)];
                    for (int r = 0; r < linear.Rows; r++)
                    {
                        for (int g = 0; g < groups; g++)
                            format.Pack(linear.Codes.AsSpan(r * linear.Cols + g * linear.GroupSize, linear.GroupSize), linear.Scales[r * groups + g],
                                linear.Zeros[r * groups + g], row.AsSpan(g * format.BytesPerBlock, format.BytesPerBlock));
                        fs.Write(row);
                    }
                }
                fs.WriteByte(0); // a mapping needs at least one byte
            }
            var scratch = new MappedFile(scratchPath);
            TryDelete(scratchPath);
            var tensors = new Dictionary<string, StoredTensor>();
            foreach (var spec in specs)
                tensors[spec.Name] = offsets.TryGetValue(spec.Name, out var at)
                    ? new StoredTensor { Name = spec.Name, FileTensorName = spec.Name, Shape = spec.Shape, Format = at.Format, Source = scratch, Offset = at.Offset }
                    : reader.Fp16Tensor(spec.Name, spec.Shape);
            var checkpoint = new GptqCheckpoint(reader, scratch, tensors);
            CheckAgainstConfig(dir, reader.Config, tensors);
            return checkpoint;
        }
        catch
        {
            TryDelete(scratchPath);
            reader.Dispose();
            throw;
        }
    }

    public override TokenizerData? LoadTokenizerData()
    {
        string path = System.IO.Path.Combine(Path, "tokenizer.json");
        return File.Exists(path) ? TokenizerJson.Load(path) : null;
    }

    public override void Dispose()
    {
        _scratch.Dispose();
        _reader.Dispose();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
