namespace TrainingService.Training.Datasets;

/// <summary>An upload id is the SHA-256 of the CSV bytes, as 64 lower-case hex digits.</summary>
public static class CsvUploadIds
{
    public static bool IsValid(string id) => id.Length == 64 && id.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}
