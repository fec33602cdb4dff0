namespace TrainingService.Training.Datasets;

/// <summary>What one example of a dataset is: an image (uint8, H×W or H×W×C), a word-index sequence, or a row of
/// numbers.</summary>
public enum DatasetKind
{
    Images,
    Sequences,
    Table,
}
