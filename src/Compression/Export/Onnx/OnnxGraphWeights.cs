// OnnxGraphWeights: what a genai-layout graph's initializers amount to — parameters, bytes, bytes a decoded token reads —
// read from model.onnx's protobuf alone (external data is sized from its declared length, never read).
using Compression.Export.Onnx.Proto;
using Google.Protobuf;

namespace Compression.Export.Onnx;

/// <summary>
/// Counts weights by the node that reads them: MatMulNBits holds K·N weights in its packed B (scales and zero points are
/// overhead); GatherBlockQuantized holds bytes·8/bits; a Gather over a 2-D float table is the embedding (a token reads one
/// row of it); GroupQueryAttention's cos/sin caches are derived tables, not weights; any other float initializer
/// (MatMul weights, norm scales) counts its elements. Integer constants (shapes, axes) are neither.
/// </summary>
internal static class OnnxGraphWeights
{
    public sealed record Summary(long Parameters, long Bytes, long BytesPerToken, IReadOnlyList<int> NBits);

    /// <summary>Larger than any graph whose weights live in external data; a bigger one holds them inline and is read whole.</summary>
    private const long MaxGraphBytes = 2L << 30;

    public static Summary Read(string modelPath, string engine)
    {
        ModelProto model;
        try
        {
            Compression.IO.InputFile.CheckReadable(modelPath, MaxGraphBytes, "an ONNX graph");
            using var stream = File.OpenRead(modelPath);
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException or IOException)
        {
            throw new InvalidDataException($"{engine}: cannot load {modelPath}: not an ONNX graph ({e.Message})");
        }
        var graph = model.Graph ?? throw new InvalidDataException($"{engine}: {modelPath}: the ONNX model has no graph");
        var init = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long parameters = 0, bytes = 0, perToken = 0;
        var nbits = new List<int>();
        void Weight(string name, long weights, bool embedding = false, params string[] overhead)
        {
            if (!seen.Add(name)) return;
            var t = init[name];
            long own = ByteLength(t) + overhead.Where(o => o.Length > 0 && init.ContainsKey(o) && seen.Add(o)).Sum(o => ByteLength(init[o]));
            parameters += weights;
            bytes += own;
            // One row of a [rows, …] table per token (scales and zeros are per row too, so the share is the same).
            perToken += embedding ? own / Math.Max(1, t.Dims.Count > 0 ? t.Dims[0] : 1) : own;
        }
        foreach (var node in graph.Node)
        {
            string Input(int i) => i < node.Input.Count ? node.Input[i] : "";
            long Attribute(string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I
                ?? throw new InvalidDataException($"{engine}: {modelPath}: node {node.Name} ({node.OpType}) has no attribute {name}");
            switch (node.OpType)
            {
                case "MatMulNBits" when init.ContainsKey(Input(1)):
                    nbits.Add((int)Attribute("bits"));
                    Weight(Input(1), Attribute("K") * Attribute("N"), false, Input(2), Input(3));
                    break;
                case "GatherBlockQuantized" when init.ContainsKey(Input(0)):
                {
                    int bits = (int)Attribute("bits");
                    nbits.Add(bits);
                    Weight(Input(0), ByteLength(init[Input(0)]) * 8 / bits, true, Input(2), Input(3));
                    break;
                }
                case "Gather" when init.TryGetValue(Input(0), out var table) && table.Dims.Count == 2 && IsFloat(table):
                    Weight(Input(0), Elements(table), true);
                    break;
                case "GroupQueryAttention":
                    foreach (string cache in node.Input.Skip(7)) seen.Add(cache);
                    break;
                default:
                    foreach (string name in node.Input)
                        if (init.TryGetValue(name, out var t) && IsFloat(t) && !seen.Contains(name)) Weight(name, Elements(t));
                    break;
            }
        }
        return new Summary(parameters, bytes, perToken, nbits);
    }

    private static bool IsFloat(TensorProto t) => (TensorProto.Types.DataType)t.DataType is TensorProto.Types.DataType.Float
        or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 or TensorProto.Types.DataType.Double;

    private static long Elements(TensorProto t) => t.Dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>Inline bytes, or the external data entry's declared length, or elements × element size.</summary>
    private static long ByteLength(TensorProto t)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External
            && t.ExternalData.FirstOrDefault(e => e.Key == "length") is { } length && long.TryParse(length.Value, out long n))
            return n;
        if (!t.RawData.IsEmpty) return t.RawData.Length;
        int size = (TensorProto.Types.DataType)t.DataType switch
        {
            TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Bool => 1,
            TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 or TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Uint16 => 2,
            TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Uint64 => 8,
            _ => 4,
        };
        return Elements(t) * size;
    }
}
