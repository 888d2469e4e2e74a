// GgufFixtureBytesTests: our q8_0/q4_0/q1_0 blocks equal llama-quantize's, tensor for tensor, on the tiny fixture.
using System.Text;
using Compression.Quantization;

namespace Compression.Tests.Quantization;

public class GgufFixtureBytesTests
{
    [Theory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    [InlineData("q1_0")]
    public void QuantizedBlocksMatchLlamaQuantize(string name)
    {
        var format = FormatRegistry.Get(name);
        var src = MiniGguf.Read(TestPaths.TinyLlamaFile("model-f32.gguf"));
        var expected = MiniGguf.Read(TestPaths.TinyLlamaFile($"model-{name}.gguf"));
        int compared = 0;
        foreach (var (tensorName, t) in expected.Tensors)
        {
            if (t.Type != format.GgmlTypeId) continue;
            var f32 = src.Tensors[tensorName];
            Assert.Equal(0, f32.Type);
            int cols = (int)t.Dims[0], rows = (int)(t.Dims.Aggregate(1L, (a, b) => a * b) / cols);
            var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(src.Data(f32, rows * cols * 4L)).ToArray();
            var ours = TestData.Quantize(format, floats, rows, cols, reference: false);
            var theirs = expected.Data(t, ours.Length);
            Assert.True(theirs.SequenceEqual(ours), $"{name}: tensor {tensorName} differs from llama-quantize's bytes");
            compared++;
        }
        Assert.True(compared >= 9, $"only {compared} {name} tensors found");
    }

    /// <summary>Just enough GGUF v3 reading to find tensor bytes (the project's reader is tested elsewhere).</summary>
    private sealed class MiniGguf
    {
        public sealed record Info(long[] Dims, int Type, long Offset);
        public Dictionary<string, Info> Tensors { get; } = [];
        private byte[] _file = [];
        private long _dataStart;

        public ReadOnlySpan<byte> Data(Info t, long bytes) => _file.AsSpan((int)(_dataStart + t.Offset), (int)bytes);

        public static MiniGguf Read(string path)
        {
            var g = new MiniGguf { _file = File.ReadAllBytes(path) };
            using var r = new BinaryReader(new MemoryStream(g._file));
            Assert.Equal("GGUF", Encoding.ASCII.GetString(r.ReadBytes(4)));
            r.ReadUInt32();
            long nTensors = r.ReadInt64(), nKv = r.ReadInt64();
            long alignment = 32;
            for (long i = 0; i < nKv; i++)
            {
                string key = Str(r);
                uint type = r.ReadUInt32();
                if (key == "general.alignment") alignment = r.ReadUInt32();
                else Skip(r, type);
            }
            for (long i = 0; i < nTensors; i++)
            {
                string name = Str(r);
                var dims = new long[r.ReadUInt32()];
                for (int d = 0; d < dims.Length; d++) dims[d] = r.ReadInt64();
                g.Tensors[name] = new Info(dims, (int)r.ReadUInt32(), r.ReadInt64());
            }
            g._dataStart = (r.BaseStream.Position + alignment - 1) / alignment * alignment;
            return g;
        }

        private static string Str(BinaryReader r) => Encoding.UTF8.GetString(r.ReadBytes((int)r.ReadUInt64()));

        private static void Skip(BinaryReader r, uint type)
        {
            switch (type)
            {
                case 0 or 1 or 7: r.ReadByte(); break;
                case 2 or 3: r.ReadUInt16(); break;
                case 4 or 5 or 6: r.ReadUInt32(); break;
                case 10 or 11 or 12: r.ReadUInt64(); break;
                case 8: Str(r); break;
                case 9:
                    uint et = r.ReadUInt32();
                    long n = r.ReadInt64();
                    for (long i = 0; i < n; i++) Skip(r, et);
                    break;
                default: throw new InvalidDataException($"unknown GGUF value type {type}");
            }
        }
    }
}
