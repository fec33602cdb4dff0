using System.Security.Cryptography;
using TrainingService.Training.Datasets;

namespace TrainingService.Datasets.Tests;

public class DownloadTests
{
    private static readonly byte[] Payload = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 31)).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Download_GoodFile_IsVerifiedAndMovedIntoPlace(bool sha256)
    {
        await using var server = new LocalHttpServer();
        server.Serve("data.bin", Payload);
        using var dir = new TempFolder();
        var hash = sha256 ? Convert.ToHexStringLower(SHA256.HashData(Payload)) : Convert.ToHexStringLower(MD5.HashData(Payload));
        using var http = new HttpClient();
        var dest = dir.File("ds", "data.bin");

        await new FileDownloader(http).DownloadAsync(new Uri(server.BaseUrl + "data.bin"), dest, hash, default);

        Assert.Equal(Payload, await File.ReadAllBytesAsync(dest));
        Assert.Single(Directory.GetFiles(dir.File("ds")));
    }

    [Fact]
    public async Task Download_WrongHash_LeavesNothingBehind()
    {
        await using var server = new LocalHttpServer();
        server.Serve("data.bin", Payload);
        using var dir = new TempFolder();
        using var http = new HttpClient();
        var dest = dir.File("ds", "data.bin");

        var e = await Assert.ThrowsAsync<DatasetException>(() =>
            new FileDownloader(http).DownloadAsync(new Uri(server.BaseUrl + "data.bin"), dest, new string('0', 32), default));

        Assert.Contains("does not match its md5", e.Message);
        Assert.False(File.Exists(dest));
        Assert.Empty(Directory.GetFiles(dir.File("ds")));
    }

    [Fact]
    public async Task Download_InterruptedTransfer_LeavesNothingBehind()
    {
        await using var server = new LocalHttpServer();
        server.Serve("data.bin", Payload[..50_000], announcedLength: Payload.Length);
        using var dir = new TempFolder();
        using var http = new HttpClient();
        var dest = dir.File("ds", "data.bin");

        var e = await Assert.ThrowsAsync<DatasetException>(() =>
            new FileDownloader(http).DownloadAsync(new Uri(server.BaseUrl + "data.bin"), dest,
                Convert.ToHexStringLower(MD5.HashData(Payload)), default));

        Assert.Contains(server.BaseUrl + "data.bin", e.Message);
        Assert.False(File.Exists(dest));
        Assert.Empty(Directory.GetFiles(dir.File("ds")));
    }

    [Fact]
    public async Task Download_FailureKeepsAnExistingGoodFile()
    {
        await using var server = new LocalHttpServer();
        server.Serve("data.bin", Payload[..10], announcedLength: Payload.Length);
        using var dir = new TempFolder();
        var dest = dir.File("ds", "data.bin");
        Directory.CreateDirectory(dir.File("ds"));
        await File.WriteAllBytesAsync(dest, [1, 2, 3]);
        using var http = new HttpClient();

        await Assert.ThrowsAsync<DatasetException>(() =>
            new FileDownloader(http).DownloadAsync(new Uri(server.BaseUrl + "data.bin"), dest, new string('0', 64), default));

        Assert.Equal(new byte[] { 1, 2, 3 }, await File.ReadAllBytesAsync(dest));
    }

    [Fact]
    public async Task Download_HttpError_IsReported()
    {
        await using var server = new LocalHttpServer();
        using var dir = new TempFolder();
        using var http = new HttpClient();
        var e = await Assert.ThrowsAsync<DatasetException>(() =>
            new FileDownloader(http).DownloadAsync(new Uri(server.BaseUrl + "missing.bin"), dir.File("x"), new string('0', 32), default));
        Assert.Contains("404", e.Message);
    }

    [Fact]
    public async Task MissingDataset_WithoutDownloads_SaysWhichFilesToPutWhere()
    {
        using var dir = new TempFolder();
        var loader = new DatasetLoader(new DatasetOptions { Root = dir.Path, FashionMnistSystemFolders = [] });
        var e = await Assert.ThrowsAsync<DatasetException>(() => loader.LoadAsync("cifar10", default));
        Assert.Contains("downloads are not allowed", e.Message);
        Assert.Contains(Path.Combine(dir.Path, "cifar10"), e.Message);
        Assert.Contains("cifar-10-binary.tar.gz", e.Message);
        Assert.Contains("c32a1d4ab5d03f1284b67883e8d87530", e.Message);
    }

    [Fact]
    public async Task MissingDataset_UnreachableSource_SaysWhichFilesToPutWhere()
    {
        using var dir = new TempFolder();
        // A handler that fails like a closed network, so the real catalog URLs are never contacted.
        using var http = new HttpClient(new FailingHandler());
        var loader = new DatasetLoader(new DatasetOptions { Root = dir.Path, AllowDownload = true, FashionMnistSystemFolders = [] }, http);

        var e = await Assert.ThrowsAsync<DatasetException>(() => loader.LoadAsync("mnist", default));

        Assert.Contains("could not be downloaded", e.Message);
        Assert.Contains("train-images-idx3-ubyte.gz", e.Message);
        Assert.Contains(Path.Combine(dir.Path, "mnist"), e.Message);
        Assert.Empty(Directory.GetFiles(dir.File("mnist")));
    }

    [Fact]
    public async Task MissingDataset_DownloadsFromMirror_ThenLoads()
    {
        await using var server = new LocalHttpServer();
        var images = FileWriters.Gzip(FileWriters.IdxImages(2, 28, 28, (n, r, c) => (byte)(n + r)));
        var labels = FileWriters.Gzip(FileWriters.IdxLabels(3, 4));
        var files = new[] { images, labels, images, labels };
        var mirror = DatasetCatalog.IdxFiles.Select((f, i) =>
        {
            server.Serve(f + ".gz", files[i]);
            return new RemoteFile(server.BaseUrl + f + ".gz", f + ".gz", Convert.ToHexStringLower(MD5.HashData(files[i])));
        }).ToArray();
        using var dir = new TempFolder();
        var options = new DatasetOptions
        {
            Root = dir.Path, AllowDownload = true, Mirrors = new Dictionary<string, IReadOnlyList<RemoteFile>> { ["mnist"] = mirror },
        };

        using var raw = await new DatasetLoader(options).LoadAsync("mnist", default);

        Assert.Equal(new long[] { 2, 28, 28 }, raw.TrainX!.shape);
        Assert.Equal(new byte[] { 3, 4 }, raw.TestY!.data<byte>().ToArray());
        Assert.Equal(4, Directory.GetFiles(dir.File("mnist")).Length);
    }

    [Fact]
    public async Task MissingDataset_MirrorWithWrongHash_IsRefusedAndNotLoaded()
    {
        await using var server = new LocalHttpServer();
        var labels = FileWriters.Gzip(FileWriters.IdxLabels(3, 4));
        var mirror = DatasetCatalog.IdxFiles.Select(f =>
        {
            server.Serve(f + ".gz", labels);
            return new RemoteFile(server.BaseUrl + f + ".gz", f + ".gz", new string('a', 32));
        }).ToArray();
        using var dir = new TempFolder();
        var options = new DatasetOptions
        {
            Root = dir.Path, AllowDownload = true, Mirrors = new Dictionary<string, IReadOnlyList<RemoteFile>> { ["mnist"] = mirror },
        };

        var e = await Assert.ThrowsAsync<DatasetException>(() => new DatasetLoader(options).LoadAsync("mnist", default));

        Assert.Contains("does not match", e.Message);
        Assert.Empty(Directory.GetFiles(dir.File("mnist")));
    }

    private sealed class FailingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new HttpRequestException("Network is unreachable");
    }
}
