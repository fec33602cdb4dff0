using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using TrainingService.Api.Infrastructure;
using TrainingService.Training.Data;
using TrainingService.Training.Datasets;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Engine;
using TrainingService.Training.Specs;

namespace TrainingService.Api.Datasets;

/// <summary>
/// <see cref="IDatasets"/> over the dataset catalog of <c>src/Training/Datasets</c> and the caller's uploads in the
/// database (<see cref="DatabaseCsvUploads"/>). Checking a submission never loads a catalog dataset, it derives the
/// signature from the catalog entry and the options, the way the preparer will shape the data.
/// </summary>
public sealed class CatalogDatasets : IDatasets
{
    private readonly DatasetOptions _options;
    private readonly DatasetCache _cache;
    private readonly DatabaseCsvUploads _stored;
    private readonly CsvUploadStore _uploads;
    private readonly DatasetPreparer _preparer;

    public CatalogDatasets(NodeDatasets node, DatabaseCsvUploads uploads)
    {
        _options = node.Options;
        _cache = node.Cache;
        _stored = uploads;
        _uploads = new CsvUploadStore(uploads, _options.MaxUploadBytes, _options.Csv);
        _preparer = new DatasetPreparer(_cache, _uploads);
    }

    public long MaxUploadBytes => _options.MaxUploadBytes;

    public IReadOnlyList<DatasetDescription> List() =>
        [.. DatasetCatalog.List(_options).Select(Describe), .. _stored.List().Select(Describe)];

    public DatasetDescription? Describe(string name)
    {
        if (name.StartsWith(DatasetSpec.CsvPrefix, StringComparison.Ordinal))
            return _stored.Find(name[DatasetSpec.CsvPrefix.Length..]) is { } upload ? Describe(upload) : null;
        return DatasetCatalog.Find(name) is { } d ? Describe(DatasetCatalog.Describe(d, _options)) : null;
    }

    public DatasetCheck Check(JsonElement dataset)
    {
        DatasetSpec spec;
        try
        {
            spec = DatasetSpec.Parse(dataset);
        }
        catch (SpecException e)
        {
            return DatasetCheck.Invalid(e.Errors);
        }

        if (spec.IsUpload)
        {
            // An upload is small and local: prepare it for real (column names, categories, shapes all checked).
            try
            {
                using var prepared = _preparer.PrepareAsync(spec, CancellationToken.None).GetAwaiter().GetResult();
                return new DatasetCheck(prepared.Signature, []);
            }
            catch (Exception e) when (e is SpecException or DatasetException or CsvException)
            {
                return DatasetCheck.Invalid(AsSpecErrors(e));
            }
        }

        var d = DatasetCatalog.Find(spec.Name)!;
        if (DatasetLocator.Locate(d, _options) is null && !_options.AllowDownload)
            return DatasetCheck.Invalid([new SpecError("dataset.name", $"'{d.Name}' is not available on this machine. {DatasetLocator.Instructions(d, _options)}")]);
        return new DatasetCheck(StaticSignature(d, spec), []);
    }

    /// <summary>The signature <see cref="FittedPreprocessing.Signature"/> will report, from the catalog entry alone.</summary>
    public static DataSignature StaticSignature(DatasetDefinition d, DatasetSpec spec)
    {
        var pre = spec.Preprocessing;
        var input = d.Kind == DatasetKind.Sequences
            ? new InputSignature([pre.Maxlen ?? -1], true)
            : new InputSignature(pre.Reshape ?? d.InputShape, false);
        var classes = d.ClassNames.Count;
        var target = pre.OneHotLabels == true
            ? new TargetSignature([classes], false, classes)
            : new TargetSignature([], true, classes);
        return new DataSignature([input], [target]);
    }

    public PreparedData Prepare(JsonElement dataset, CancellationToken cancellationToken, FitOn? fitOn = null)
    {
        try
        {
            var spec = DatasetSpec.Parse(dataset);
            var prepared = _preparer.PrepareAsync(spec, cancellationToken, fitOn).GetAwaiter().GetResult();
            return new PreparedData(prepared.Train, prepared.Test, prepared.Preprocessing.ToJson(), prepared,
                prepared.Preprocessing.Targets.FirstOrDefault()?.ClassNames);
        }
        catch (Exception e) when (e is DatasetException or CsvException)
        {
            throw new SpecException(AsSpecErrors(e));
        }
    }

    public async Task<IReadOnlyList<DatasetSample>> SamplesAsync(string name, string split, int offset, int count, CancellationToken cancellationToken)
    {
        var d = DatasetCatalog.Find(name);
        if (d is null || d.Kind != DatasetKind.Images)
            throw new SpecException("name", $"'{name}' is not a built-in image dataset; samples are shown for image datasets only.");
        if (DatasetLocator.Locate(d, _options) is null && !_options.AllowDownload)
            throw new SpecException("name", $"'{d.Name}' is not available on this machine. {DatasetLocator.Instructions(d, _options)}");
        var raw = await _cache.GetAsync(d.Name, cancellationToken);
        var (x, y) = split switch
        {
            "train" => (raw.TrainX, raw.TrainY),
            "test" when raw.HasTestSplit => (raw.TestX, raw.TestY),
            _ => throw new SpecException("split", $"'{d.Name}' has no split '{split}'. Accepted: train{(raw.HasTestSplit ? ", test" : "")}."),
        };
        var end = (int)Math.Min(y!.shape[0], (long)offset + count);
        var samples = new List<DatasetSample>();
        for (var i = offset; i < end; i++)
        {
            using var row = x![i].to_type(TorchSharp.torch.ScalarType.Float32).contiguous();
            using var labelTensor = y[i].to_type(TorchSharp.torch.ScalarType.Int64);
            var label = (int)labelTensor.item<long>();
            samples.Add(new DatasetSample(i, label, raw.ClassNames[label], row.shape.Select(v => (int)v).ToArray(), row.data<float>().ToArray()));
        }
        return samples;
    }

    public async Task<DatasetDescription> UploadCsvAsync(byte[] content, CancellationToken cancellationToken)
    {
        try
        {
            return Describe(await _uploads.StoreAsync(content, cancellationToken));
        }
        catch (CsvException e)
        {
            throw new SpecException(AsSpecErrors(e));
        }
    }

    private static IReadOnlyList<SpecError> AsSpecErrors(Exception e) => e switch
    {
        SpecException s => s.Errors,
        CsvException c => [new SpecError(c.Line is null ? "dataset" : "file", c.Message)],
        _ => [new SpecError("dataset", e.Message)],
    };

    private static DatasetDescription Describe(DatasetInfo i) => new(
        i.Name, i.Kind.ToString().ToLowerInvariant(), i.Available, i.Description,
        new Dictionary<string, long?> { ["train"] = i.TrainCount, ["test"] = i.TestCount },
        i.InputShape, i.InputDType, i.ClassNames, null, i.HowToInstall, i.License);

    private static DatasetDescription Describe(CsvUpload u) =>
        Describe(new UploadSummary(u.Id, u.Bytes, u.Rows, JsonSerializer.Serialize(u.Columns, Json.Options)));

    private static DatasetDescription Describe(UploadSummary u) => new(
        DatasetSpec.CsvPrefix + u.Id, "table", true, $"CSV upload, {u.Rows} rows, {u.Bytes} bytes",
        new Dictionary<string, long?> { ["rows"] = u.Rows }, null, null, null,
        JsonNode.Parse(u.ColumnsJson), null, null);
}
