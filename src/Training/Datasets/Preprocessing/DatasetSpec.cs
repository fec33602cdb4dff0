using System.Text.Json;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>
/// The <c>dataset</c> section of a run, parsed and checked. Either a catalog <c>name</c> (mnist, fashion_mnist,
/// cifar10, cifar100, imdb, digits, iris) or an upload (<c>"name": "csv:&lt;id&gt;"</c> or <c>"upload_id"</c>) with its
/// tabular keys. <see cref="Parse"/> throws <see cref="SpecException"/> listing every problem with paths such as
/// <c>dataset.preprocessing.maxlen</c>.
/// </summary>
public sealed record DatasetSpec(string Name, string? UploadId, PreprocessingSpec Preprocessing, TabularSpec? Tabular)
{
    public const string CsvPrefix = "csv:";

    private static readonly string[] TopKeys = ["name", "upload_id", "preprocessing", "target", "features", "categorical", "missing", "standardize"];
    private static readonly string[] TabularKeys = ["target", "features", "categorical", "missing", "standardize"];
    private static readonly string[] PreKeys =
        ["rescale", "reshape", "standardize", "one_hot_labels", "num_words", "skip_top", "maxlen", "padding", "truncating",
         "test_fraction", "stratify", "subset", "seed", "augmentation"];
    private static readonly string[] SequenceKeys = ["num_words", "skip_top", "maxlen", "padding", "truncating"];
    private static readonly string[] AugKeys = ["horizontal_flip", "random_crop", "translation", "rotation", "zoom"];
    private static readonly string[] MissingModes = ["mean", "median", "most_frequent", "drop"];

    public bool IsUpload => UploadId is not null;

    public static DatasetSpec Parse(JsonElement dataset)
    {
        var r = new SpecReader("dataset");
        if (dataset.ValueKind != JsonValueKind.Object)
        {
            r.Error("", "must be an object such as {\"name\": \"mnist\"}.");
            r.ThrowIfAny();
        }
        r.UnknownKeys(dataset, "", TopKeys);

        var name = r.String(dataset, "name");
        var uploadId = r.String(dataset, "upload_id");
        if (name is not null && name.StartsWith(CsvPrefix, StringComparison.Ordinal))
        {
            if (uploadId is not null && uploadId != name[CsvPrefix.Length..])
                r.Error("upload_id", $"names a different upload than 'name' ({name}).");
            uploadId = name[CsvPrefix.Length..];
        }
        if (uploadId is not null)
        {
            if (!CsvUploadIds.IsValid(uploadId))
                r.Error(dataset.TryGetProperty("upload_id", out _) ? "upload_id" : "name", $"'{uploadId}' is not an upload id (64 lower-case hex digits).");
            name = CsvPrefix + uploadId;
        }
        else if (name is null)
        {
            r.Error("name", $"is required: one of {string.Join(", ", DatasetCatalog.All.Select(d => d.Name))}, or \"csv:<upload id>\".");
        }
        else if (DatasetCatalog.Find(name) is null)
        {
            r.Error("name", $"unknown dataset '{name}'; accepted: {string.Join(", ", DatasetCatalog.All.Select(d => d.Name))}, or \"csv:<upload id>\".");
        }

        var pre = dataset.TryGetProperty("preprocessing", out var p) ? ParsePreprocessing(r, p) : PreprocessingSpec.Default;
        TabularSpec? tabular = null;
        if (uploadId is not null)
        {
            tabular = ParseTabular(r, dataset, pre);
        }
        else
        {
            foreach (var k in TabularKeys.Where(k => dataset.TryGetProperty(k, out _)))
                r.Error(k, "applies to CSV uploads only (\"name\": \"csv:<upload id>\").");
        }

        if (name is not null && DatasetCatalog.Find(name) is { } d)
            CheckAgainstDefinition(r, dataset, pre, d);
        r.ThrowIfAny();
        return new DatasetSpec(name!, uploadId, pre, tabular);
    }

    private static void CheckAgainstDefinition(SpecReader r, JsonElement dataset, PreprocessingSpec pre, DatasetDefinition d)
    {
        if (!dataset.TryGetProperty("preprocessing", out var p) || p.ValueKind != JsonValueKind.Object) return;
        if (d.Kind != DatasetKind.Sequences)
        {
            foreach (var k in SequenceKeys.Where(k => p.TryGetProperty(k, out _)))
                r.Error($"preprocessing.{k}", $"applies to sequence datasets (imdb); '{d.Name}' holds {d.Kind.ToString().ToLowerInvariant()}.");
        }
        else
        {
            foreach (var k in new[] { "rescale", "reshape", "standardize", "augmentation" }.Where(k => p.TryGetProperty(k, out _)))
                r.Error($"preprocessing.{k}", $"does not apply to '{d.Name}' (word-index sequences); accepted there: {string.Join(", ", SequenceKeys)}, one_hot_labels, subset, seed.");
        }
        if (d.Kind != DatasetKind.Images && pre.Augmentation is not null)
            r.Error("preprocessing.augmentation", $"applies to image datasets; '{d.Name}' holds {d.Kind.ToString().ToLowerInvariant()}.");
        if (pre.Augmentation is { } a && (a.IsGeometric || a.RandomCropPadding is not null) && d.InputShape.Length < 2)
            r.Error("preprocessing.augmentation", "needs images of at least height and width.");
        if (d.TestCount is not null)
        {
            foreach (var k in new[] { "test_fraction", "stratify" }.Where(k => p.TryGetProperty(k, out _)))
                r.Error($"preprocessing.{k}", $"'{d.Name}' has its own test split; {k} applies to sets without one (digits, iris, CSV uploads).");
        }
        if (pre.Reshape is { } shape && d.Kind != DatasetKind.Sequences)
        {
            var want = d.InputShape.Aggregate(1L, (x, y) => x * y);
            var got = shape.Aggregate(1L, (x, y) => x * y);
            if (want != got)
                r.Error("preprocessing.reshape", $"[{string.Join(", ", shape)}] holds {got} values but a '{d.Name}' example holds {want} ([{string.Join(", ", d.InputShape)}]); e.g. [{want}].");
        }
    }

    private static PreprocessingSpec ParsePreprocessing(SpecReader r, JsonElement p)
    {
        const string at = "preprocessing";
        if (p.ValueKind != JsonValueKind.Object)
        {
            r.Error(at, "must be an object.");
            return PreprocessingSpec.Default;
        }
        r.UnknownKeys(p, at, PreKeys);
        var rescale = r.Number(p, "rescale", at);
        if (rescale is <= 0 or double.NaN) r.Error($"{at}.rescale", "must be a positive number such as 0.00392156862745098 (1/255).");
        int[]? reshape = null;
        if (p.TryGetProperty("reshape", out var rs))
        {
            if (rs.ValueKind != JsonValueKind.Array || rs.GetArrayLength() == 0
                || rs.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var v) || v <= 0))
                r.Error($"{at}.reshape", "must be a per-example shape of positive integers, e.g. [784] or [28, 28, 1].");
            else
                reshape = rs.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        }
        var numWords = r.Int(p, "num_words", at, min: 1);
        var skipTop = r.Int(p, "skip_top", at, min: 0) ?? 0;
        var maxlen = r.Int(p, "maxlen", at, min: 1);
        var padding = r.Choice(p, "padding", at, ["pre", "post"]);
        var truncating = r.Choice(p, "truncating", at, ["pre", "post"]);
        var testFraction = r.Number(p, "test_fraction", at);
        if (testFraction is not null and (<= 0 or >= 1 or double.NaN)) r.Error($"{at}.test_fraction", "must be between 0 and 1 (exclusive), e.g. 0.2.");
        SubsetSpec? subset = null;
        if (p.TryGetProperty("subset", out var s))
        {
            if (s.ValueKind != JsonValueKind.Object) r.Error($"{at}.subset", "must be an object such as {\"train\": 1000, \"test\": 200}.");
            else
            {
                r.UnknownKeys(s, $"{at}.subset", ["train", "test"]);
                subset = new SubsetSpec(r.Int(s, "train", $"{at}.subset", min: 1), r.Int(s, "test", $"{at}.subset", min: 1));
            }
        }
        AugmentationSpec? aug = null;
        if (p.TryGetProperty("augmentation", out var a))
        {
            var aat = $"{at}.augmentation";
            if (a.ValueKind != JsonValueKind.Object) r.Error(aat, "must be an object with any of " + string.Join(", ", AugKeys) + ".");
            else
            {
                r.UnknownKeys(a, aat, AugKeys);
                int? crop = null;
                if (a.TryGetProperty("random_crop", out var rc))
                {
                    if (rc.ValueKind == JsonValueKind.Object)
                    {
                        r.UnknownKeys(rc, $"{aat}.random_crop", ["padding"]);
                        crop = r.Int(rc, "padding", $"{aat}.random_crop", min: 0) ?? 4;
                    }
                    else if (rc.ValueKind == JsonValueKind.True) crop = 4;
                    else if (rc.ValueKind != JsonValueKind.False) r.Error($"{aat}.random_crop", "must be {\"padding\": 4} (pixels added on each side before cropping) or true.");
                }
                var translation = r.Number(a, "translation", aat) ?? 0;
                if (translation is < 0 or >= 1) r.Error($"{aat}.translation", "must be a fraction of the image size in [0, 1), e.g. 0.1.");
                var rotation = r.Number(a, "rotation", aat) ?? 0;
                if (rotation is < 0 or > 180) r.Error($"{aat}.rotation", "must be a number of degrees in [0, 180], e.g. 10.");
                var zoom = r.Number(a, "zoom", aat) ?? 0;
                if (zoom is < 0 or >= 1) r.Error($"{aat}.zoom", "must be a fraction in [0, 1), e.g. 0.1 for scales 0.9-1.1.");
                aug = new AugmentationSpec(r.Bool(a, "horizontal_flip", aat) ?? false, crop, translation, rotation, zoom);
            }
        }
        return new PreprocessingSpec
        {
            Rescale = rescale,
            Reshape = reshape,
            Standardize = r.Bool(p, "standardize", at) ?? false,
            OneHotLabels = r.Bool(p, "one_hot_labels", at),
            NumWords = numWords,
            SkipTop = skipTop,
            Maxlen = maxlen,
            PadPost = padding == "post",
            TruncatePost = truncating == "post",
            TestFraction = testFraction,
            Stratify = r.Bool(p, "stratify", at),
            Subset = subset,
            Seed = r.Int(p, "seed", at, min: 0) ?? 0,
            Augmentation = aug,
        };
    }

    private static TabularSpec ParseTabular(SpecReader r, JsonElement d, PreprocessingSpec pre)
    {
        var targets = new List<string>();
        if (!d.TryGetProperty("target", out var t))
            r.Error("target", "is required for a CSV upload: a column name or a list of column names.");
        else if (t.ValueKind == JsonValueKind.String) targets.Add(t.GetString()!);
        else if (t.ValueKind == JsonValueKind.Array && t.GetArrayLength() > 0 && t.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
            targets.AddRange(t.EnumerateArray().Select(e => e.GetString()!));
        else r.Error("target", "must be a column name or a non-empty list of column names.");

        List<KeyValuePair<string, IReadOnlyList<string>>>? groups = null;
        if (d.TryGetProperty("features", out var f))
        {
            if (f.ValueKind == JsonValueKind.Array)
            {
                var cols = r.StringList(f, "features");
                if (cols is not null) groups = [new("input", cols)];
            }
            else if (f.ValueKind == JsonValueKind.Object)
            {
                groups = [];
                foreach (var g in f.EnumerateObject())
                {
                    var cols = r.StringList(g.Value, $"features.{g.Name}");
                    if (cols is not null) groups.Add(new(g.Name, cols));
                }
                if (groups.Count == 0) r.Error("features", "must name at least one input group.");
            }
            else r.Error("features", "must be a list of column names, or an object of input name → list of column names.");
        }
        var categorical = d.TryGetProperty("categorical", out var c) ? r.StringList(c, "categorical") ?? [] : [];
        var missing = "mean";
        string? constant = null;
        if (d.TryGetProperty("missing", out var m))
        {
            if (m.ValueKind == JsonValueKind.String && MissingModes.Contains(m.GetString()))
                missing = m.GetString()!;
            else if (m.ValueKind == JsonValueKind.Object && m.TryGetProperty("constant", out var k) && m.EnumerateObject().Count() == 1
                     && k.ValueKind is JsonValueKind.Number or JsonValueKind.String)
            {
                missing = "constant";
                constant = k.ValueKind == JsonValueKind.Number ? k.GetRawText() : k.GetString();
            }
            else r.Error("missing", "must be \"mean\", \"median\", \"most_frequent\", \"drop\" or {\"constant\": value}.");
        }
        var standardize = (r.Bool(d, "standardize", "") ?? false) || pre.Standardize;
        return new TabularSpec(targets, groups, categorical, missing, constant, standardize);
    }
}
