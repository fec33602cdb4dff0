using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using TrainingService.Api.Infrastructure;

namespace TrainingService.Api.Runs;

/// <summary>What a run submission and a sweep submission read and check alike: a JSON body of bounded size, and the
/// model name a run (or a sweep's promoted best trial) is served under.</summary>
public static partial class SubmittedWork
{
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    public const string NameRule = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    /// <summary>The request body, or null once it passes <see cref="MaxBodyBytes"/> (the rest is not read).</summary>
    public static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    public static ValidationProblem BodyTooLarge() => Problems.Invalid("$", $"The body must be at most {MaxBodyBytes} bytes.");
}
