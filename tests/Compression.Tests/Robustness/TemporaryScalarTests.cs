// TemporaryScalarTests: no code path hands libtorch a TorchSharp Scalar that the GC may finalize during the call.
using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Compression.Tests.Robustness;

/// <summary>
/// TorchSharp 0.107 wraps a libtorch scalar in a finalizable <c>Scalar</c> and passes only its handle to native code, so
/// a temporary one — from an implicit conversion (<c>t.ge(0)</c>, <c>t * 0.5</c>) or made inside TorchSharp
/// (<c>a + b</c> is <c>a.add(b, 1)</c>, <c>square()</c> is <c>pow(2)</c>) — is unreachable while the native op runs. A
/// garbage collection started by any other thread then lets the finalizer free it under libtorch's feet: the 8B benchmark
/// died after minutes of work with "INTERNAL ASSERT FAILED at c10/core/Scalar.h" in <c>pow</c>. The race is too rare
/// to catch by running, so this reads the IL instead: which TorchSharp methods make a temporary Scalar (directly or
/// through another TorchSharp method), and that the workbench calls none of them and converts nothing implicitly.
/// Scalars the workbench needs are held (<c>using var s = v.ToScalar()</c>, or <see cref="Compression.Model.TensorMath"/>).
/// </summary>
public class TemporaryScalarTests
{
    [Fact]
    public void TheWorkbenchNeverPassesATemporaryScalarToLibtorch()
    {
        var torchSharp = typeof(TorchSharp.torch).Assembly.Location;
        var tainted = TaintedTorchSharpMethods(torchSharp);
        // The scan must see what it is meant to see, or it would pass vacuously (a TorchSharp that no longer makes these
        // temporaries would fail here too: then the scan, and TensorMath, can be revisited).
        foreach (var known in new[] { "Tensor.add(Tensor)", "Tensor.op_Addition(Tensor,Tensor)", "Tensor.square()" })
            Assert.True(tainted.Contains(known), $"the IL scan of {torchSharp} no longer finds {known} making a temporary Scalar");
        foreach (var clean in new[] { "Tensor.add(Tensor,Scalar)", "Tensor.mul(Tensor)" })
            Assert.False(tainted.Contains(clean), $"the IL scan of {torchSharp} marks {clean}, which takes its Scalar from the caller");

        var offenders = new List<string>();
        foreach (var file in new[] { typeof(Compression.Model.RmsNorm).Assembly.Location, typeof(Compression.Cli.Commands.BenchCommand).Assembly.Location })
            offenders.AddRange(Calls(file, tainted));
        Assert.True(offenders.Count == 0, "temporary Scalars handed to libtorch:\n" + string.Join("\n", offenders));
    }

    /// <summary>"Type.method(params)" of every TorchSharp method that makes a Scalar it does not return.</summary>
    private static HashSet<string> TaintedTorchSharpMethods(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var md = pe.GetMetadataReader();
        var provider = new Names(md);
        var calls = new Dictionary<MethodDefinitionHandle, List<MethodDefinitionHandle>>();
        var tainted = new HashSet<MethodDefinitionHandle>();
        var returnsScalar = new HashSet<MethodDefinitionHandle>();
        foreach (var mh in md.MethodDefinitions)
        {
            var m = md.GetMethodDefinition(mh);
            if (m.DecodeSignature(provider, null).ReturnType == "Scalar") returnsScalar.Add(mh);
            if (m.RelativeVirtualAddress == 0) continue;
            var callees = calls[mh] = [];
            foreach (int token in CallTokens(pe.GetMethodBody(m.RelativeVirtualAddress).GetILBytes()))
            {
                if ((token >> 24) != 0x06) continue; // methods of TorchSharp itself
                var callee = MetadataTokens.MethodDefinitionHandle(token & 0xffffff);
                var cm = md.GetMethodDefinition(callee);
                if (md.GetString(cm.Name) == "op_Implicit" && md.GetString(md.GetTypeDefinition(cm.GetDeclaringType()).Name) == "Scalar")
                    tainted.Add(mh);
                callees.Add(callee);
            }
        }
        // A method whose result is a Scalar hands it to its caller: a conversion, not a temporary.
        tainted.ExceptWith(returnsScalar);
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var (caller, callees) in calls)
                if (!tainted.Contains(caller) && !returnsScalar.Contains(caller) && callees.Any(tainted.Contains))
                    grew |= tainted.Add(caller);
        }
        return tainted.Select(h =>
        {
            var m = md.GetMethodDefinition(h);
            return Key(md.GetString(md.GetTypeDefinition(m.GetDeclaringType()).Name), md.GetString(m.Name), m.DecodeSignature(provider, null));
        }).ToHashSet();
    }

    /// <summary>"Method in Type: callee" for each call in <paramref name="path"/> to an implicit Scalar conversion or a tainted method.</summary>
    private static IEnumerable<string> Calls(string path, HashSet<string> tainted)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var md = pe.GetMetadataReader();
        var provider = new Names(md);
        var found = new List<string>();
        foreach (var th in md.TypeDefinitions)
        {
            var t = md.GetTypeDefinition(th);
            foreach (var mh in t.GetMethods())
            {
                var m = md.GetMethodDefinition(mh);
                if (m.RelativeVirtualAddress == 0) continue;
                foreach (int token in CallTokens(pe.GetMethodBody(m.RelativeVirtualAddress).GetILBytes()))
                {
                    if ((token >> 24) != 0x0A) continue; // member references: methods of other assemblies
                    var r = md.GetMemberReference(MetadataTokens.MemberReferenceHandle(token & 0xffffff));
                    if (r.Parent.Kind != HandleKind.TypeReference) continue;
                    string type = md.GetString(md.GetTypeReference((TypeReferenceHandle)r.Parent).Name), name = md.GetString(r.Name);
                    if (r.GetKind() != MemberReferenceKind.Method) continue;
                    string key = Key(type, name, r.DecodeMethodSignature(provider, null));
                    if (type == "Scalar" && name == "op_Implicit" || tainted.Contains(key))
                        found.Add($"{md.GetString(t.Name)}.{md.GetString(m.Name)}: {key}");
                }
            }
        }
        return found;
    }

    private static string Key(string type, string name, MethodSignature<string> sig) => $"{type}.{name}({string.Join(",", sig.ParameterTypes)})";

    /// <summary>The metadata tokens of every call, callvirt, newobj and ldftn in an IL body, decoded instruction by instruction.</summary>
    private static List<int> CallTokens(byte[] il)
    {
        var tokens = new List<int>();
        for (int i = 0; i < il.Length;)
        {
            int op = il[i++];
            int size;
            if (op == 0xFE)
            {
                int op2 = il[i++];
                size = op2 switch { 0x06 or 0x07 or 0x15 or 0x16 or 0x1C => 4, >= 0x09 and <= 0x0E => 2, 0x12 or 0x19 => 1, _ => 0 };
                if (op2 is 0x06 or 0x07) tokens.Add(BitConverter.ToInt32(il.AsSpan(i, 4)));
            }
            else
            {
                size = op switch
                {
                    >= 0x0E and <= 0x13 or 0x1F or (>= 0x2B and <= 0x37) or 0xDE => 1,
                    0x20 or 0x22 or 0x27 or 0x28 or 0x29 or (>= 0x38 and <= 0x44) or 0x6F or 0x70 or 0x71 or 0x72 or 0x73 or 0x74
                        or 0x75 or 0x79 or (>= 0x7B and <= 0x81) or 0x8C or 0x8D or 0x8F or 0xA3 or 0xA4 or 0xA5 or 0xC2 or 0xC6
                        or 0xD0 or 0xDD => 4,
                    0x21 or 0x23 => 8,
                    0x45 => 4 + 4 * BitConverter.ToInt32(il.AsSpan(i, 4)),
                    _ => 0,
                };
                if (op is 0x28 or 0x6F or 0x73) tokens.Add(BitConverter.ToInt32(il.AsSpan(i, 4)));
            }
            i += size;
        }
        return tokens;
    }

    /// <summary>Type names as they read in source, without namespaces (TorchSharp's Tensor is nested in <c>torch</c>).</summary>
    private sealed class Names(MetadataReader md) : ISignatureTypeProvider<string, object?>
    {
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => md.GetString(md.GetTypeDefinition(handle).Name);
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => md.GetString(md.GetTypeReference(handle).Name);
        public string GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) => "spec";
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[*]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => $"{genericType}<{string.Join(",", typeArguments)}>";
        public string GetGenericMethodParameter(object? context, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? context, int index) => "!" + index;
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
        public string GetPinnedType(string elementType) => elementType;
    }
}
