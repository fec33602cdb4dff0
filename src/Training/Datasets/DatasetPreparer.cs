using System.Text.Json;
using TrainingService.Training.Datasets.Preprocessing;

namespace TrainingService.Training.Datasets;

/// <summary>
/// The entry point for a run: parses the <c>dataset</c> JSON section, loads the dataset once per process (shared
/// through <see cref="DatasetCache"/>) or opens the CSV upload, and returns the prepared splits with their fitted
/// preprocessing and signature. Spec problems throw <see cref="Specs.SpecException"/> (paths <c>dataset.…</c>);
/// unavailable or corrupt data throws <see cref="DatasetException"/>, corrupt uploads <see cref="CsvException"/>.
/// </summary>
public sealed class DatasetPreparer(DatasetCache cache, CsvUploadStore? uploads = null)
{
    public async Task<PreparedDataset> PrepareAsync(JsonElement dataset, CancellationToken cancellationToken)
    {
        var spec = DatasetSpec.Parse(dataset);
        return await PrepareAsync(spec, cancellationToken);
    }

    /// <param name="fitOn">Picks the training examples the preprocessing is fitted on (see <see cref="FitOn"/>).</param>
    public async Task<PreparedDataset> PrepareAsync(DatasetSpec spec, CancellationToken cancellationToken, FitOn? fitOn = null)
    {
        if (spec.IsUpload)
        {
            if (uploads is null) throw new DatasetException("CSV uploads are not configured (Datasets:Root or Datasets:UploadFolder).");
            var table = await uploads.OpenAsync(spec.UploadId!, cancellationToken)
                ?? throw new Specs.SpecException("dataset.name", $"no upload with id '{spec.UploadId}'; upload the CSV first.");
            return TabularPreparer.Prepare(spec, table, fitOn);
        }
        var raw = await cache.GetAsync(spec.Name, cancellationToken);
        return CatalogPreparer.Prepare(spec, raw, fitOn);
    }
}
