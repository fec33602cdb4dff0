namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>Random image changes applied per batch, on training batches only.</summary>
/// <param name="HorizontalFlip">Mirror left-right with probability 0.5.</param>
/// <param name="RandomCropPadding">Zero-pad by this many pixels on each side, then crop back at a random offset.</param>
/// <param name="Translation">Shift by up to this fraction of height and width (Keras RandomTranslation factor).</param>
/// <param name="Rotation">Rotate by up to this many degrees either way (ImageDataGenerator rotation_range).</param>
/// <param name="Zoom">Scale by a factor in [1 - zoom, 1 + zoom] (ImageDataGenerator zoom_range).</param>
public sealed record AugmentationSpec(bool HorizontalFlip, int? RandomCropPadding, double Translation, double Rotation, double Zoom)
{
    public bool IsGeometric => Translation > 0 || Rotation > 0 || Zoom > 0;
}
