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

    /// <summary>On the counting stand-in: writes the calls per native function since the last report to
    /// <paramref name="path"/> and returns true.</summary>
    public static bool Report(string path)
    {
        try { ths_native_call_report(path); return true; }
        catch (EntryPointNotFoundException) { return false; }
    }

    // DllImport, as OpenMpWaits does: LibraryImport's generated stub would need AllowUnsafeBlocks.
#pragma warning disable SYSLIB1054
    [DllImport("LibTorchSharp")]
    private static extern long ths_native_calls();

    [DllImport("LibTorchSharp", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern void ths_native_call_report([MarshalAs(UnmanagedType.LPStr)] string path);
#pragma warning restore SYSLIB1054
}
