using System.Security.Cryptography;
using System.Text;
using TorchSharp;

namespace TrainingService.Training.Tests;

public class LibTorchLoadsTests
{
    // SHA-256 of libLibTorchSharp.so as the TorchSharp 0.107.0 package ships it.
    private const string ShippedLibTorchSharpSha256 = "cf33b1b0bb6bbb9754a768fb5c5d04d9f498603be50e73f55621a0b40ee608b8";

    [Fact]
    public void MatMul_RunsInLibTorch_OnThisHost()
    {
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 });
        using var b = torch.tensor(new float[] { 5, 6, 7, 8 }, new long[] { 2, 2 });
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [Fact]
    public void BuildPatch_ReplacesItsOwnCopy_AndLeavesTheNuGetCacheAsShipped()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var shipped = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var ours = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(shipped), $"expected the TorchSharp package at {shipped}");
        Assert.True(File.Exists(ours), $"expected libLibTorchSharp.so at {ours}");

        // bin/ links package files into place; the patched file must be its own file, not a link into the cache.
        Assert.Null(new FileInfo(ours).LinkTarget);
        Assert.Equal(ShippedLibTorchSharpSha256, Sha256(shipped));
        if (!HostLibStdCxxHas("GLIBCXX_3.4.32"))
            Assert.NotEqual(ShippedLibTorchSharpSha256, Sha256(ours));
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static bool HostLibStdCxxHas(string version)
    {
        var lib = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6" }
            .FirstOrDefault(File.Exists);
        return lib is not null && File.ReadAllBytes(lib).AsSpan().IndexOf(Encoding.ASCII.GetBytes(version + "\0")) >= 0;
    }
}
