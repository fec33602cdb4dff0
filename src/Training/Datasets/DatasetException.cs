namespace TrainingService.Training.Datasets;

/// <summary>A dataset cannot be had: its files are missing, unreadable or corrupt, or a download failed.
/// The message says what is wrong and, for missing files, which files to put where.</summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string message, Exception? inner = null) : base(message, inner) { }
}
