using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Api.Infrastructure;

namespace TrainingService.Api.Keras;

/// <summary>Reads the file part of a multipart request (a .keras archive), bounded in size.</summary>
public static class KerasUploads
{
    public const long MaxArchiveBytes = 128L * 1024 * 1024;

    public static async Task<(byte[]? Content, ValidationProblem? Problem)> ReadFileAsync(IFormCollection form, string field, CancellationToken ct)
    {
        var file = form.Files.GetFile(field);
        if (file is null || file.Length == 0)
            return (null, Problems.Invalid(field, $"Attach the .keras file as multipart field '{field}'."));
        if (file.Length > MaxArchiveBytes)
            return (null, Problems.Invalid(field, $"At most {MaxArchiveBytes} bytes; got {file.Length}."));
        using var buffer = new MemoryStream();
        await using (var stream = file.OpenReadStream()) await stream.CopyToAsync(buffer, ct);
        return (buffer.ToArray(), null);
    }
}
