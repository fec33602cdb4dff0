using System.Security.Cryptography;

namespace TrainingService.Training.Datasets;

/// <summary>
/// Fetches one file: streams it to a uniquely named temporary file beside its destination, checks the length the
/// server announced and the hash, and only then renames it into place (a same-folder rename is atomic). A loader
/// only ever opens canonical names, so it never sees a partial or unverified file; the temporary file is deleted on
/// every failure.
/// </summary>
public sealed class FileDownloader(HttpClient http, long maxBytes = 512L * 1024 * 1024)
{
    public const string PartialSuffix = ".part";

    public async Task DownloadAsync(Uri url, string destination, string expectedHash, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(destination))!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}{PartialSuffix}");
        try
        {
            using var hash = IncrementalHash.CreateHash(expectedHash.Length == 64 ? HashAlgorithmName.SHA256 : HashAlgorithmName.MD5);
            long received = 0;
            long? announced;
            using (var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken))
            {
                if (!response.IsSuccessStatusCode)
                    throw new DatasetException($"Download of {url} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.");
                announced = response.Content.Headers.ContentLength;
                if (announced > maxBytes)
                    throw new DatasetException($"Download of {url} refused: {announced} bytes is over the limit of {maxBytes}.");
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                var buffer = new byte[1 << 16];
                while (true)
                {
                    var n = await body.ReadAsync(buffer, cancellationToken);
                    if (n == 0) break;
                    received += n;
                    if (received > maxBytes)
                        throw new DatasetException($"Download of {url} refused: more than {maxBytes} bytes.");
                    hash.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                }
                await file.FlushAsync(cancellationToken);
            }
            if (announced is { } expectedLength && received != expectedLength)
                throw new DatasetException($"Download of {url} was interrupted: {received} of {expectedLength} bytes arrived.");
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (!string.Equals(actual, expectedHash, StringComparison.OrdinalIgnoreCase))
            {
                throw new DatasetException(
                    $"Download of {url} does not match its {DatasetLocator.HashName(expectedHash)}: expected {expectedHash}, got {actual} ({received} bytes). The file was discarded.");
            }
            File.Move(temp, destination, overwrite: true);
        }
        catch (HttpRequestException e)
        {
            throw new DatasetException($"Download of {url} failed: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DatasetException($"Download of {url} timed out.", e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new DatasetException($"Download of {url} failed: {e.Message}", e);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
