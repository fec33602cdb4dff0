using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Api.Infrastructure;
using TrainingService.Training.Keras;

namespace TrainingService.Api.Keras;

/// <summary>Reads the file parts of a multipart request (Keras model files), bounded in size.</summary>
public static class KerasUploads
{
    public const long MaxArchiveBytes = 128L * 1024 * 1024;

    /// <summary>Every file sent in <paramref name="field"/> (a .keras, .h5 or zip file, or a TF.js model.json with its
    /// shards), at most <see cref="MaxArchiveBytes"/> together.</summary>
    public static async Task<(IReadOnlyList<KerasUpload>? Files, ValidationProblem? Problem)> ReadFilesAsync(IFormCollection form, string field, CancellationToken ct)
    {
        var files = form.Files.GetFiles(field).Where(f => f.Length > 0).ToList();
        if (files.Count == 0)
            return (null, Problems.Invalid(field, $"Attach the model as multipart field '{field}': a .keras, .h5 or TF.js zip file, or a TF.js model.json with its weight shards (several files in the same field)."));
        var total = files.Sum(f => f.Length);
        if (total > MaxArchiveBytes)
            return (null, Problems.Invalid(field, $"At most {MaxArchiveBytes} bytes in all; got {total}."));
        var result = new List<KerasUpload>();
        foreach (var file in files)
        {
            using var buffer = new MemoryStream();
            await using (var stream = file.OpenReadStream()) await stream.CopyToAsync(buffer, ct);
            result.Add(new KerasUpload(file.FileName, buffer.ToArray()));
        }
        return (result, null);
    }

    /// <summary>The optional 'architecture' field: a Keras model document (model.to_json()) for a weights-only HDF5 file.</summary>
    public static (JsonElement? Architecture, ValidationProblem? Problem) ReadArchitecture(IFormCollection form)
    {
        var text = form["architecture"].ToString();
        if (string.IsNullOrWhiteSpace(text)) return (null, null);
        try
        {
            using var doc = JsonDocument.Parse(text);
            return (doc.RootElement.Clone(), null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Invalid("architecture", $"Not valid JSON: {e.Message}"));
        }
    }
}
