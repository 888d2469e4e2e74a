// FuzzSuiteTests: seeded mutations of the tiny-llama3 fixture's files driven through the library's loaders in-process.
// Every case must end in a typed, one-line error naming the file, or in a load an independent oracle accepts —
// within an allocation bound and a time bound. About 2,100 cases; the seed is fixed so CI runs are reproducible
// (set COMPRESS_FUZZ_SEED to explore others).
using System.Buffers.Binary;
using System.Text;
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Checkpoints.Safetensors;
using Compression.Evaluation.Tasks.MultipleChoice;
using Compression.Experiments;
using Compression.Model;
using Compression.Quantization;
using Compression.Tests.Robustness.Fuzz;
using Compression.Tokenization;
using Xunit.Abstractions;

namespace Compression.Tests.Robustness;

public sealed class FuzzSuiteTests(ITestOutputHelper output)
{
    // A loader of a ~2 MB file that needs more than this for a corrupt one is sizing something from a corrupt field.
    private const long AllocationBound = 64L << 20;
    private static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(3);

    private static int Seed(int salt) =>
        (int.TryParse(Environment.GetEnvironmentVariable("COMPRESS_FUZZ_SEED"), out int s) ? s : 17) * 7919 + salt;

    private void Finish(FuzzHarness h, int minCases)
    {
        output.WriteLine(h.Summary());
        Assert.True(h.Cases >= minCases, $"only {h.Cases} cases ran");
        Assert.True(h.Violations.Count == 0, $"{h.Violations.Count} of {h.Cases} cases failed (seed {Seed(0)}):\n" + string.Join("\n", h.Violations.Take(15)));
    }

    // ---- safetensors ----

    [Fact]
    public void Safetensors_mutations_give_a_typed_error_or_the_original_tensors()
    {
        byte[] original = File.ReadAllBytes(TestPaths.TinyLlamaFile("model.safetensors"));
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(original);
        int dataStart = 8 + (int)n;
        string header = Encoding.UTF8.GetString(original, 8, (int)n);
        var reference = TensorBytes(TestPaths.TinyLlama);
        var boundaries = new List<long> { 0, 1, 7, 8, 9, dataStart - 1, dataStart, dataStart + 1, original.Length - 1 };
        using (var st = SafetensorsFile.Open(TestPaths.TinyLlamaFile("model.safetensors")))
            foreach (var t in st.TensorList) { boundaries.Add(t.Offset); boundaries.Add(t.Offset + t.ByteLength - 1); }

        string dir = TestPaths.NewTempDir("fuzz-st");
        File.Copy(TestPaths.TinyLlamaFile("config.json"), Path.Combine(dir, "config.json"));
        string path = Path.Combine(dir, "model.safetensors");
        var random = new Random(Seed(1));
        var bytes = new ByteMutator(random);
        var json = new JsonMutator(random);
        var h = new FuzzHarness("safetensors", AllocationBound, TimeBound);
        for (int i = 0; i < 450; i++)
        {
            var (mutated, label) = (i % 7) switch
            {
                0 => bytes.Truncate(original, boundaries[random.Next(boundaries.Count)] + (random.Next(3) == 0 ? random.Next(-3, 4) : 0)),
                1 => bytes.SetU64(original, 0, random.Next(2) == 0 ? n + (ulong)random.Next(1, 17) : n - (ulong)random.Next(1, 17) is var v && v < n ? v : 0),
                2 => bytes.SetU64(original, 0, bytes.Extreme64()),
                3 => Reheader(original, dataStart, json.Mutate(header)),
                4 => bytes.FlipBits(original, 8, dataStart - 8, 1 + random.Next(3)),
                5 => bytes.FlipBits(original, dataStart, original.Length - dataStart, 1 + random.Next(4)),
                _ => PaddedShortHeader(original, header, dataStart, random.Next(1, 8)),
            };
            File.WriteAllBytes(path, mutated);
            long changedData = ChangedDataBytes(original, mutated, dataStart);
            h.Run($"#{i} {label}", () =>
                {
                    var c = CheckpointOpener.Open(dir);
                    try { NonFinite.Check(c); } catch { c.Dispose(); throw; }
                    return c;
                },
                loaded => CheckLoaded((Checkpoint)loaded!, reference, changedData), Path.GetFileName(dir)); // the file or its checkpoint folder
        }
        Finish(h, 450);
    }

    // The header JSON mutated, re-encoded with a correct length prefix and 8-byte space padding, data unchanged.
    private static (byte[], string) Reheader(byte[] original, int dataStart, (byte[] Json, string Label) m)
    {
        var json = m.Json.ToList();
        while (json.Count % 8 != 0) json.Add((byte)' ');
        var b = new byte[8].Concat(json).Concat(original[dataStart..]).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)json.Count);
        return (b, "header " + m.Label);
    }

    // The case: the header ends in padding, and the stored length is a few bytes short, so the JSON still
    // parses but the data region starts early. Must be an error, never shifted tensors.
    private static (byte[], string) PaddedShortHeader(byte[] original, string header, int dataStart, int shortBy)
    {
        byte[] padded = Encoding.UTF8.GetBytes(header.TrimEnd() + new string(' ', 8));
        var b = new byte[8].Concat(padded).Concat(original[dataStart..]).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)(padded.Length - shortBy));
        return (b, $"padded header, length {shortBy} short");
    }

    // ---- GGUF ----

    [Fact]
    public void Gguf_mutations_give_a_typed_error_or_the_original_tensors()
    {
        var h = new FuzzHarness("gguf", AllocationBound, TimeBound);
        var random = new Random(Seed(2));
        var bytes = new ByteMutator(random);
        string dir = TestPaths.NewTempDir("fuzz-gguf");
        foreach (var (fixture, count) in new[] { ("model-q4_0.gguf", 400), ("model-q1_0.gguf", 150), ("model-q8_0.gguf", 100) })
        {
            byte[] original = File.ReadAllBytes(TestPaths.TinyLlamaFile(fixture));
            var (fields, headerEnd) = GgufFields.Walk(original);
            var reference = TensorBytes(TestPaths.TinyLlamaFile(fixture));
            long dataStart;
            List<GgufTensorInfo> infos;
            using (var f = GgufFile.Open(TestPaths.TinyLlamaFile(fixture))) { dataStart = f.DataOffset; infos = f.Tensors.ToList(); }
            string path = Path.Combine(dir, fixture);
            for (int i = 0; i < count; i++)
            {
                var field = fields[random.Next(fields.Count)];
                var (mutated, label) = (i % 6) switch
                {
                    0 => bytes.Truncate(original, random.Next(4) == 0 ? headerEnd + random.Next(-2, 40) : field.Offset + random.Next(field.Size + 1)),
                    1 => field.Size == 8 ? bytes.SetU64(original, field.Offset, bytes.Extreme64())
                        : field.Size == 4 ? bytes.SetU32(original, field.Offset, bytes.Extreme32())
                        : bytes.FlipBits(original, field.Offset, field.Size, 1),
                    2 => TypeSwap(bytes, original, fields, random),
                    3 => bytes.FlipBits(original, 0, headerEnd, 1 + random.Next(3)),
                    4 => bytes.FlipBits(original, (int)dataStart, original.Length - (int)dataStart, 1 + random.Next(4)),
                    _ => NonFiniteScale(original, infos[random.Next(infos.Count)], random),
                };
                File.WriteAllBytes(path, mutated);
                long changedData = ChangedDataBytes(original, mutated, (int)dataStart);
                h.Run($"{fixture} #{i} {label}", () =>
                    {
                        var c = GgufCheckpoint.Open(path);
                        try
                        {
                            NonFinite.Check(c);
                            c.CreateTokenizer()?.Encode("Hello world");
                        }
                        catch { c.Dispose(); throw; }
                        return c;
                    },
                    loaded => CheckLoaded((Checkpoint)loaded!, reference, changedData), fixture);
            }
        }
        Finish(h, 650);
    }

    private static (byte[], string) TypeSwap(ByteMutator bytes, byte[] original, List<GgufField> fields, Random random)
    {
        var types = fields.Where(f => f.Kind is GgufFieldKind.ValueType or GgufFieldKind.TensorType or GgufFieldKind.DimensionCount).ToList();
        var f = types[random.Next(types.Count)];
        return bytes.SetU32(original, f.Offset, (uint)random.Next(0, 14));
    }

    // Sets a value of a tensor to ±Inf/NaN where its format keeps a float (f32 value or the fp16 scale of a block).
    private static (byte[], string) NonFiniteScale(byte[] original, GgufTensorInfo t, Random random)
    {
        var b = (byte[])original.Clone();
        long blocks = t.ByteLength / t.Format.BytesPerBlock;
        long at = t.Offset + random.NextInt64(blocks) * t.Format.BytesPerBlock;
        if (t.Format == FormatRegistry.F32) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan((int)at), random.Next(2) == 0 ? float.NaN : float.PositiveInfinity);
        else BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan((int)at), random.Next(2) == 0 ? (ushort)0x7C00 : (ushort)0x7E00); // fp16 Inf, NaN
        return (b, $"non-finite first float of a {t.Format.Name} block of '{t.Name}' at {at}");
    }

    // ---- config.json ----

    [Fact]
    public void Config_mutations_give_a_typed_error_or_a_bounded_config()
    {
        string original = File.ReadAllText(TestPaths.TinyLlamaFile("config.json"));
        string dir = TestPaths.NewTempDir("fuzz-config");
        string path = Path.Combine(dir, "config.json");
        var random = new Random(Seed(3));
        var json = new JsonMutator(random);
        var h = new FuzzHarness("config.json", AllocationBound, TimeBound);
        for (int i = 0; i < 350; i++)
        {
            var (mutated, label) = json.Mutate(original);
            File.WriteAllBytes(path, mutated);
            h.Run($"#{i} {label}", () =>
            {
                var c = LlamaConfig.Load(path);
                _ = SizeTable.Rows(c); // what inspect --config does with it
                return c;
            }, loaded =>
            {
                var c = (LlamaConfig)loaded!;
                if (c.NumLayers > LlamaConfig.MaxLayers || c.VocabSize > LlamaConfig.MaxVocabSize || c.HiddenSize > LlamaConfig.MaxHiddenSize)
                    return $"accepted an implausible config ({c.NumLayers} layers, vocab {c.VocabSize}, hidden {c.HiddenSize})";
                return LlamaConfig.Parse(c.ToJson()).ToJson() == c.ToJson() ? null : "does not round-trip through its JSON";
            }, "config.json");
        }
        Finish(h, 350);
    }

    // ---- tokenizer.json ----

    [Fact]
    public void Tokenizer_mutations_give_a_typed_error_or_a_working_tokenizer()
    {
        string original = File.ReadAllText(TestPaths.TinyLlamaFile("tokenizer.json"));
        string dir = TestPaths.NewTempDir("fuzz-tok");
        string path = Path.Combine(dir, "tokenizer.json");
        File.Copy(TestPaths.TinyLlamaFile("tokenizer_config.json"), Path.Combine(dir, "tokenizer_config.json"));
        var random = new Random(Seed(4));
        var json = new JsonMutator(random);
        var h = new FuzzHarness("tokenizer.json", AllocationBound, TimeBound);
        for (int i = 0; i < 250; i++)
        {
            var (mutated, label) = json.Mutate(original);
            File.WriteAllBytes(path, mutated);
            h.Run($"#{i} {label}", () => new LlamaTokenizer(TokenizerJson.Load(path)), loaded =>
            {
                var t = (LlamaTokenizer)loaded!;
                var ids = t.Encode("Hello world", addBos: false);
                return ids.All(id => id >= 0 && id < t.VocabSize) ? null : "encoded to ids outside the vocabulary";
            }, "tokenizer.json");
        }
        Finish(h, 250);
    }

    // ---- task JSONL ----

    [Fact]
    public void Task_jsonl_mutations_give_a_typed_error_or_valid_documents()
    {
        string samples = Path.Combine(AppContext.BaseDirectory, "Evaluation", "Samples");
        var files = Directory.GetFiles(samples, "*.jsonl").Order().ToArray();
        string dir = TestPaths.NewTempDir("fuzz-jsonl");
        var random = new Random(Seed(5));
        var json = new JsonMutator(random);
        var h = new FuzzHarness("task jsonl", AllocationBound, TimeBound);
        for (int i = 0; i < 210; i++)
        {
            string source = files[i % files.Length];
            var lines = File.ReadAllLines(source).Where(l => l.Trim().Length > 0).ToList();
            int which = random.Next(lines.Count);
            var (mutated, label) = json.Mutate(lines[which]);
            lines[which] = Encoding.UTF8.GetString(mutated).Replace("\n", " ");
            if (random.Next(5) == 0) lines.Add(lines[random.Next(lines.Count)]); // a duplicated line
            string path = Path.Combine(dir, Path.GetFileName(source));
            File.WriteAllLines(path, lines);
            h.Run($"{Path.GetFileName(source)} #{i} line {which + 1} {label}", () => MultipleChoiceSet.Read(path), loaded =>
                ((MultipleChoiceSet)loaded!).Documents.Count > 0 ? null : "no documents", Path.GetFileName(source));
        }
        Finish(h, 210);
    }

    // ---- experiment specs ----

    [Fact]
    public void Experiment_spec_mutations_give_a_typed_error_or_a_valid_spec()
    {
        string experiments = RepoPath("experiments");
        var specs = Directory.GetFiles(experiments, "*.json").Order().ToArray();
        string dir = TestPaths.NewTempDir("fuzz-spec");
        var random = new Random(Seed(6));
        var json = new JsonMutator(random);
        var h = new FuzzHarness("experiment spec", AllocationBound, TimeBound);
        for (int i = 0; i < 210; i++)
        {
            string source = specs[i % specs.Length];
            var (mutated, label) = json.Mutate(File.ReadAllText(source));
            string path = Path.Combine(dir, Path.GetFileName(source));
            File.WriteAllBytes(path, mutated);
            h.Run($"{Path.GetFileName(source)} #{i} {label}", () => ExperimentSpecLoader.Load(path, experiments), loaded =>
                ExperimentSpecLoader.Validate((ExperimentSpec)loaded!, path) is not null ? null : "not valid", Path.GetFileName(source));
        }
        Finish(h, 210);
    }

    // ---- oracles ----

    /// <summary>Each tensor's stored bytes (model order) of the fixture checkpoint at <paramref name="path"/>.</summary>
    private static Dictionary<string, byte[]> TensorBytes(string path)
    {
        using var c = CheckpointOpener.Open(path);
        return c.Tensors.ToDictionary(kv => kv.Key, kv =>
        {
            var b = new byte[kv.Value.ByteLength];
            kv.Value.CopyTo(b);
            return b;
        });
    }

    private static long ChangedDataBytes(byte[] original, byte[] mutated, int dataStart)
    {
        if (original.Length != mutated.Length) return 0; // a shifted file must not load with different tensors at all
        long n = 0;
        for (int i = dataStart; i < original.Length; i++) if (original[i] != mutated[i]) n++;
        return n;
    }

    // A load is correct when it has the fixture's tensors, byte for byte except the bytes the mutation changed in the
    // data region, and no non-finite value by the scalar reference (the vectorised check let it through).
    private static string? CheckLoaded(Checkpoint c, Dictionary<string, byte[]> reference, long changedData)
    {
        if (!c.Tensors.Keys.Order().SequenceEqual(reference.Keys.Order())) return "different tensor names";
        long differing = 0;
        foreach (var (name, t) in c.Tensors)
        {
            if (t.ByteLength != reference[name].Length) return $"tensor '{name}' has {t.ByteLength} bytes, the fixture {reference[name].Length}";
            var b = new byte[t.ByteLength];
            t.CopyTo(b);
            for (int i = 0; i < b.Length; i++) if (b[i] != reference[name][i]) differing++;
            if (NonFinite.CountReference(t) is > 0 and var bad) return $"tensor '{name}' loaded with {bad} non-finite values";
        }
        return differing <= changedData ? null : $"{differing} tensor bytes differ from the fixture but the mutation changed only {changedData} data bytes (shifted read)";
    }

    private static string RepoPath(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Compression.sln"))) return Path.Combine(d.FullName, name);
        throw new DirectoryNotFoundException("repository root (Compression.sln) not found above " + AppContext.BaseDirectory);
    }
}
