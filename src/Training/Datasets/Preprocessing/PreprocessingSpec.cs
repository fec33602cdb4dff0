namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>The <c>dataset.preprocessing</c> section, parsed. Every key is optional; see <see cref="DatasetSpec"/>.</summary>
public sealed record PreprocessingSpec
{
    public double? Rescale { get; init; }
    public int[]? Reshape { get; init; }
    public bool Standardize { get; init; }

    /// <summary>Null: labels stay integer class indices (the engine one-hots them for categorical_crossentropy).</summary>
    public bool? OneHotLabels { get; init; }

    public int? NumWords { get; init; }
    public int SkipTop { get; init; }
    public int? Maxlen { get; init; }
    public bool PadPost { get; init; }
    public bool TruncatePost { get; init; }

    /// <summary>Share of train held out as test, for sets without a test split (default 0.2).</summary>
    public double? TestFraction { get; init; }

    /// <summary>Keep class proportions in the held-out split (default true for class labels).</summary>
    public bool? Stratify { get; init; }

    public SubsetSpec? Subset { get; init; }
    public int Seed { get; init; }
    public AugmentationSpec? Augmentation { get; init; }

    public static readonly PreprocessingSpec Default = new();
}
