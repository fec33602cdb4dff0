namespace TrainingService.Training.Datasets;

/// <summary>A file a dataset can be downloaded as: its canonical URL, the name it is stored under in the
/// dataset's folder, and its hash (32 hex digits = MD5, 64 = SHA-256, as Keras's get_file decides).</summary>
public sealed record RemoteFile(string Url, string FileName, string Hash);
