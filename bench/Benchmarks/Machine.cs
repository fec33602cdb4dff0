using System.Globalization;
using System.Runtime.InteropServices;

namespace TrainingService.Bench;

/// <summary>What the numbers were taken on, and the CPU's peak FP32 rate: cores × SIMD lanes × 2 (an FMA is two
/// FLOPs) × FMA units per core × clock. Lanes come from the CPU flags (avx512f: 16, avx2+fma: 8, else 4); the clock
/// is /proc/cpuinfo's "cpu MHz" (under KVM the nominal clock; turbo, if any, is hidden from the guest); FMA units per
/// core are not visible to software and are an input (2 for Xeon cores with AVX-512, <c>--fma-units</c>).</summary>
public sealed record Machine(string Cpu, int Cores, double Mhz, string Simd, int Lanes, int FmaUnits, double MemoryGb, string Os,
    string Dotnet, string TorchSharp, string LibTorch, string? Hypervisor)
{
    public double PeakGflops => Cores * Lanes * 2.0 * FmaUnits * Mhz / 1000.0;

    public static Machine Describe(int fmaUnits)
    {
        var cpuinfo = File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : [];
        string Field(string name) => cpuinfo.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var flags = Field("flags").Split(' ').ToHashSet();
        var (simd, lanes) = flags.Contains("avx512f") ? ("AVX-512 (avx512f), FMA", 16) : flags.Contains("avx2") && flags.Contains("fma") ? ("AVX2, FMA", 8) : ("SSE", 4);
        double.TryParse(Field("cpu MHz"), NumberStyles.Float, CultureInfo.InvariantCulture, out var mhz);
        var memKb = File.Exists("/proc/meminfo")
            ? long.Parse(File.ReadLines("/proc/meminfo").First().Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) : 0;
        var os = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "?" : RuntimeInformation.OSDescription;
        if (File.Exists("/etc/debian_version")) os += $" (debian_version {File.ReadAllText("/etc/debian_version").Trim()}, kernel {Environment.OSVersion.Version})";
        var torchSharp = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?";
        var libtorch = typeof(TorchSharp.torch).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "?";
        return new Machine(Field("model name"), Environment.ProcessorCount, mhz, simd, lanes, fmaUnits, memKb / 1024.0 / 1024.0, os,
            RuntimeInformation.FrameworkDescription, torchSharp, LibTorchVersion(), flags.Contains("hypervisor") ? "yes (KVM guest)" : null);
    }

    /// <summary>LibTorch's version from the libtorch-cpu package folder the build restored (TorchSharp 0.107 ships LibTorch 2.10).</summary>
    private static string LibTorchVersion()
    {
        var nuget = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var dir = Path.Combine(nuget, "libtorch-cpu-linux-x64");
        return Directory.Exists(dir) ? string.Join(", ", Directory.GetDirectories(dir).Select(Path.GetFileName)) : "2.10.0 (per TorchSharp-cpu 0.107.0)";
    }
}
