// NativeCpuPinsSetup: the test assembly pins libtorch's CPU code paths as it loads, before any test's first torch call
// (a test may call TorchSharp before anything touches Compression.dll, whose own module initializer would do it).
using System.Runtime.CompilerServices;
using Compression.Training;

namespace Compression.Tests.Training;

internal static class NativeCpuPinsSetup
{
#pragma warning disable CA2255 // must run before xunit starts any test
    [ModuleInitializer]
    internal static void Pin() => NativeCpuPins.Apply();
#pragma warning restore CA2255
}
