using TrainingService.Training.Data;
using TrainingService.Training.Datasets.Formats;
using static TorchSharp.torch;

namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>
/// Prepares a catalog dataset for a run from its shared <see cref="RawDataset"/>: picks the splits (its own test
/// split, or a seeded <c>test_fraction</c> of train), takes any subset, fits statistics on the training split (or on
/// the part of it a <see cref="FitOn"/> picks), and builds the <see cref="FittedPreprocessing"/>. Images and tables
/// stay in their stored dtype; a run that uses a whole split gets views of the shared tensors (no copy). Labels
/// become int64 class indices, or float32 one-hot rows with <c>one_hot_labels</c> (CIFAR labels are flattened from
/// Keras's (N,1) to (N)). For IMDB, <c>maxlen</c> pads/truncates with pad_sequences semantics (Keras's load_data
/// would instead drop reviews of maxlen tokens or more); without it every review is padded to the longest training
/// review.
/// </summary>
public static class CatalogPreparer
{
    public static PreparedDataset Prepare(DatasetSpec spec, RawDataset raw, FitOn? fitOn = null)
    {
        var pre = spec.Preprocessing;
        var (trainIdx, testIdx) = Splits(raw, pre);
        int[]? fitPositions = null;
        if (fitOn is not null)
        {
            using var picked = Select(raw.TrainY, trainIdx);
            using var classes = picked.reshape(picked.shape[0]).to_type(ScalarType.Int32);
            fitPositions = fitOn((int)classes.shape[0], classes.data<int>().ToArray());
        }
        var target = new FittedTarget("output", null, raw.ClassNames, pre.OneHotLabels ?? false);
        var trainY = Labels(raw.TrainY, trainIdx, target);
        var testY = Labels(raw.TestY ?? raw.TrainY, testIdx.Indices, target);

        FittedInput input;
        Tensor trainX, testX;
        if (raw.Kind == DatasetKind.Sequences)
        {
            var encoded = EncodeSequences(raw, pre, trainIdx, testIdx.Indices);
            (input, trainX, testX) = encoded;
        }
        else
        {
            var testSource = raw.TestX ?? raw.TrainX!;
            trainX = Select(raw.TrainX!, trainIdx);
            testX = Select(testSource, testIdx.Indices);
            var rawShape = raw.TrainX!.shape.Skip(1).Select(d => (int)d).ToArray();
            float[]? mean = null, std = null;
            if (pre.Standardize)
            {
                using var fitX = fitPositions is null ? trainX.alias() : Select(trainX, fitPositions);
                (mean, std) = ChannelStats(fitX, raw.Kind, pre.Rescale ?? 1);
            }
            input = new FittedInput
            {
                Name = "input",
                RawShape = rawShape,
                RawDType = trainX.dtype == ScalarType.Byte ? "uint8" : "float32",
                Shape = pre.Reshape ?? rawShape,
                Rescale = pre.Rescale,
                Mean = mean,
                Std = std,
                Augmentation = pre.Augmentation,
            };
        }
        var fp = new FittedPreprocessing { Dataset = raw.Name, Kind = raw.Kind, Inputs = [input], Targets = [target] };
        var transform = fp.CreateTransform();
        return new PreparedDataset(new ArrayDataset([trainX], [trainY], transform), new ArrayDataset([testX], [testY], transform), fp);
    }

    private sealed record TestSelection(int[]? Indices);

    private static (int[]? Train, TestSelection Test) Splits(RawDataset raw, PreprocessingSpec pre)
    {
        var n = (int)raw.TrainY.shape[0];
        int[]? train = null, test = null;
        if (!raw.HasTestSplit)
        {
            var labels = (pre.Stratify ?? true) ? raw.TrainY.to_type(ScalarType.Int32).data<int>().ToArray() : null;
            (train, test) = Sampling.Split(n, pre.TestFraction ?? 0.2, labels, pre.Seed);
        }
        if (pre.Subset?.Train is { } st && st < (train?.Length ?? n))
            train = Sampling.Subset(train ?? Enumerable.Range(0, n).ToArray(), st, pre.Seed);
        var testN = (int)(raw.TestY ?? raw.TrainY).shape[0];
        if (pre.Subset?.Test is { } sv && sv < (test?.Length ?? testN))
            test = Sampling.Subset(test ?? Enumerable.Range(0, testN).ToArray(), sv, pre.Seed + 1);
        return (train, new TestSelection(test));
    }

    /// <summary>A whole split is a new handle on the shared storage; a selection is a copy.</summary>
    private static Tensor Select(Tensor t, int[]? indices)
    {
        if (indices is null) return t.alias();
        using var idx = tensor(indices.Select(i => (long)i).ToArray());
        return t.index_select(0, idx);
    }

    private static Tensor Labels(Tensor y, int[]? indices, FittedTarget target)
    {
        using var picked = Select(y, indices);
        using var flat = picked.reshape(picked.shape[0]);
        var labels = flat.to_type(ScalarType.Int64, copy: true);
        if (!target.OneHot) return labels;
        using (labels) return nn.functional.one_hot(labels, target.ClassNames!.Count).to_type(ScalarType.Float32);
    }

    /// <summary>Mean and standard deviation per channel (images: the last axis when there is one, else one value;
    /// tables: per feature), in float64 over chunks so no float copy of the whole split is made; reported in
    /// rescaled units. A constant channel gets std 1.</summary>
    private static (float[] Mean, float[] Std) ChannelStats(Tensor x, DatasetKind kind, double rescale)
    {
        var perLast = kind == DatasetKind.Table || x.dim() == 4;
        var channels = perLast ? x.shape[^1] : 1;
        var sum = new double[channels];
        var sumSq = new double[channels];
        long count = 0;
        const long chunk = 4096;
        for (long start = 0; start < x.shape[0]; start += chunk)
        {
            using var scope = NewDisposeScope();
            var part = x.narrow(0, start, Math.Min(chunk, x.shape[0] - start)).to_type(ScalarType.Float64).reshape(-1, channels);
            var s = part.sum(0L).data<double>().ToArray();
            var q = (part * part).sum(0L).data<double>().ToArray();
            for (var c = 0; c < channels; c++) { sum[c] += s[c]; sumSq[c] += q[c]; }
            count += part.shape[0];
        }
        var mean = new float[channels];
        var std = new float[channels];
        for (var c = 0; c < channels; c++)
        {
            var m = sum[c] / count;
            var v = Math.Max(0, sumSq[c] / count - m * m);
            var sd = Math.Sqrt(v);
            mean[c] = (float)(m * rescale);
            std[c] = sd < 1e-7 ? 1f : (float)(sd * Math.Abs(rescale));
        }
        return (mean, std);
    }

    private static (FittedInput, Tensor, Tensor) EncodeSequences(RawDataset raw, PreprocessingSpec pre, int[]? trainIdx, int[]? testIdx)
    {
        IReadOnlyList<int[]> Pick(IReadOnlyList<int[]> all, int[]? idx) => idx is null ? all : idx.Select(i => all[i]).ToArray();
        var train = Pick(raw.TrainSequences!, trainIdx);
        var test = Pick(raw.TestSequences ?? raw.TrainSequences!, testIdx);
        var numWords = pre.NumWords;
        var skipTop = pre.SkipTop;
        int Map(int w) => ImdbTokenizer.Limit(w, numWords, skipTop);
        var maxlen = pre.Maxlen ?? train.Max(s => s.Length);
        var trainPadded = SequencePadding.Pad(train, maxlen, pre.PadPost, pre.TruncatePost, Map);
        var testPadded = SequencePadding.Pad(test, maxlen, pre.PadPost, pre.TruncatePost, Map);
        var vocabulary = raw.WordRanks!
            .Select(kv => (kv.Key, Index: kv.Value + ImdbTokenizer.IndexFrom))
            .Where(p => Map(p.Index) == p.Index)
            .ToDictionary(p => p.Key, p => p.Index, StringComparer.Ordinal);
        var text = new TextEncoding(numWords, skipTop, maxlen, pre.PadPost ? "post" : "pre", pre.TruncatePost ? "post" : "pre",
            ImdbTokenizer.StartChar, ImdbTokenizer.OovChar, ImdbTokenizer.IndexFrom, StripBreaks: ImdbTokenizer.StripsBreaks(raw.WordRanks!), vocabulary);
        var input = new FittedInput
        {
            Name = "input", RawShape = [maxlen], RawDType = "int32", Shape = [maxlen], IsInteger = true, Text = text,
        };
        return (input, tensor(trainPadded).reshape(train.Count, maxlen), tensor(testPadded).reshape(test.Count, maxlen));
    }
}
