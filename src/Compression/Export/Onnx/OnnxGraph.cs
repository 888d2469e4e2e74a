// OnnxGraph: nodes, graph inputs/outputs and constants, in the names and attribute types ONNX expects.
using Compression.Export.Onnx.Proto;
using Google.Protobuf;

namespace Compression.Export.Onnx;

/// <summary>A graph under construction: nodes in topological order, typed inputs and outputs, initializers.</summary>
internal sealed class OnnxGraph(OnnxInitializers initializers)
{
    public const string MicrosoftDomain = "com.microsoft";
    private readonly List<NodeProto> _nodes = [];
    private readonly List<ValueInfoProto> _inputs = [], _outputs = [];
    private readonly HashSet<string> _constants = [];

    public OnnxInitializers Initializers => initializers;

    /// <summary>Adds a node named <paramref name="name"/>; its outputs are <c>{name}/output_i</c> unless given.</summary>
    public string[] Node(string opType, string name, string[] inputs, int outputCount = 1, string domain = "",
        IEnumerable<(string Name, object Value)>? attributes = null, string[]? outputs = null)
    {
        var node = new NodeProto { OpType = opType, Name = name, Domain = domain };
        node.Input.AddRange(inputs);
        outputs ??= Enumerable.Range(0, outputCount).Select(i => $"{name}/output_{i}").ToArray();
        node.Output.AddRange(outputs);
        foreach (var (key, value) in attributes ?? []) node.Attribute.Add(Attribute(key, value));
        _nodes.Add(node);
        return outputs;
    }

    public void Input(string name, TensorProto.Types.DataType type, params object[] dims) => _inputs.Add(Value(name, type, dims));
    public void Output(string name, TensorProto.Types.DataType type, params object[] dims) => _outputs.Add(Value(name, type, dims));

    /// <summary>An int64 constant (scalar when <paramref name="scalar"/>, else 1-D), created once per value.</summary>
    public string Int64Constant(long value, bool scalar)
    {
        string name = scalar ? $"/model/constants/INT64/{value}" : $"/model/constants/INT64/[{value}]";
        if (_constants.Add(name)) initializers.Add(name, TensorProto.Types.DataType.Int64, scalar ? [] : [1], new[] { value }.AsSpan());
        return name;
    }

    public ModelProto ToModel(string graphName, string producerVersion)
    {
        var graph = new GraphProto { Name = graphName };
        graph.Node.AddRange(_nodes);
        graph.Input.AddRange(_inputs);
        graph.Output.AddRange(_outputs);
        graph.Initializer.AddRange(initializers.Tensors);
        var model = new ModelProto { IrVersion = 10, ProducerName = "compression", ProducerVersion = producerVersion, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 21 });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        return model;
    }

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d switch
            {
                string p => new TensorShapeProto.Types.Dimension { DimParam = p },
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                _ => throw new ArgumentException($"dimension {d} of {name} is neither a name nor a size"),
            });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        long l => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = l },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ints => Ints(name, ints),
        _ => throw new ArgumentException($"attribute {name}: unsupported value type {value.GetType().Name}"),
    };

    private static AttributeProto Ints(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
