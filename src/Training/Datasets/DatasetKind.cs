namespace TrainingService.Training.Datasets;

/// <summary>What one example of a dataset is: an image (uint8, H×W or H×W×C), a word-index sequence, or a row of
/// numbers.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<DatasetKind>))]
public enum DatasetKind
{
    Images,
    Sequences,
    Table,
}
