using System.Runtime.InteropServices;

namespace TrainingService.Bench;

/// <summary>TorchSharp's native calls so far, when the process runs on the counting stand-in for libLibTorchSharp.so
/// (bench/NativeCallCounter/make-shim.sh); null without it.</summary>
internal static class NativeCalls
{
    public static long? Count()
    {
        try { return ths_native_calls(); }
        catch (EntryPointNotFoundException) { return null; }
    }

    // DllImport, as OpenMpWaits does: LibraryImport's generated stub would need AllowUnsafeBlocks.
#pragma warning disable SYSLIB1054
    [DllImport("LibTorchSharp")]
    private static extern long ths_native_calls();
#pragma warning restore SYSLIB1054
}
