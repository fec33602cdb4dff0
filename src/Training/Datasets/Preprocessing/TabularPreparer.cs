using System.Globalization;
using TrainingService.Training.Data;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Datasets.Preprocessing;

/// <summary>
/// Turns a CSV upload into train/test <see cref="ArrayDataset"/>s. Rows without a target are dropped (and, with
/// missing "drop", rows missing any used feature). The test split (<c>test_fraction</c>, default 0.2, stratified on
/// the first class target by default) is taken before anything is fitted; imputation values, category lists and
/// standardisation statistics come from the training rows only. A target is a class label when its column is not
/// numeric or is listed in <c>categorical</c>; class names are its distinct values (numerically ordered when they
/// are numbers). Other targets are regression values (float32, shape [1]).
/// </summary>
public static class TabularPreparer
{
    public static PreparedDataset Prepare(DatasetSpec spec, CsvTable table, FitOn? fitOn = null) => Prepare(spec, table, null, fitOn);

    /// <param name="split">Positions (among the rows kept) of train and test, instead of the seeded split; for tests.</param>
    /// <param name="fitOn">Picks the training rows the columns are fitted on (a cross-validation fold's own part).</param>
    internal static PreparedDataset Prepare(DatasetSpec spec, CsvTable table, (int[] Train, int[] Test)? split, FitOn? fitOn = null)
    {
        var tab = spec.Tabular ?? throw new ArgumentException("Not a CSV dataset spec.", nameof(spec));
        var pre = spec.Preprocessing;
        var infos = CsvColumnInference.Infer(table);
        var errors = new List<SpecError>();
        var accepted = $"columns: {string.Join(", ", table.Header)}";

        int Column(string name, string path)
        {
            var i = table.ColumnIndex(name);
            if (i < 0) errors.Add(new SpecError(path, $"unknown column '{name}'; {accepted}."));
            return i;
        }

        var targetCols = tab.Targets.Select((t, i) => Column(t, tab.Targets.Count == 1 ? "dataset.target" : $"dataset.target[{i}]")).ToArray();
        for (var i = 0; i < tab.Categorical.Count; i++) Column(tab.Categorical[i], $"dataset.categorical[{i}]");
        var groups = tab.FeatureGroups
            ?? [new("input", table.Header.Where(h => !tab.Targets.Contains(h)).ToArray())];
        var groupCols = new List<int[]>();
        foreach (var (gname, cols) in groups)
        {
            var path = gname == "input" && groups.Count == 1 ? "dataset.features" : $"dataset.features.{gname}";
            if (cols.Count == 0) errors.Add(new SpecError(path, "names no feature columns."));
            groupCols.Add(cols.Select((c, i) =>
            {
                if (tab.Targets.Contains(c)) errors.Add(new SpecError($"{path}[{i}]", $"'{c}' is a target; a column cannot be both."));
                return Column(c, $"{path}[{i}]");
            }).ToArray());
        }
        if (errors.Count > 0) throw new SpecException(errors);

        bool IsCategorical(int col) => infos[col].Type != ColumnType.Numeric || tab.Categorical.Contains(table.Header[col]);
        foreach (var (cols, g) in groupCols.Zip(groups))
        {
            foreach (var col in cols.Where(c => infos[c].Type == ColumnType.Text && !tab.Categorical.Contains(table.Header[c])))
            {
                var bad = CsvColumnInference.FirstNonNumeric(table, col)!.Value;
                errors.Add(new SpecError("dataset.features",
                    $"column '{table.Header[col]}' holds text, not numbers (line {table.LineOf(bad.Row)}, column {col + 1}: '{bad.Value}') and has too many distinct values to be categorical; list it in \"categorical\" or leave it out."));
            }
        }
        if (errors.Count > 0) throw new SpecException(errors);

        // Rows used: a target present everywhere; with "drop", every used feature present too.
        var used = groupCols.SelectMany(c => c).ToArray();
        var rows = Enumerable.Range(0, table.Rows.Count)
            .Where(r => targetCols.All(t => table.Rows[r][t] is not null))
            .Where(r => tab.Missing != "drop" || used.All(c => table.Rows[r][c] is not null))
            .ToArray();
        if (rows.Length < 2)
            throw new SpecException("dataset", $"only {rows.Length} row(s) have every target{(tab.Missing == "drop" ? " and feature" : "")} present; at least 2 are needed.");

        // Targets: class names over all used rows; indices per row.
        var targets = new List<(FittedTarget Fitted, int[]? Classes, float[]? Values)>();
        for (var k = 0; k < targetCols.Length; k++)
        {
            var col = targetCols[k];
            var name = table.Header[col];
            if (IsCategorical(col))
            {
                var values = rows.Select(r => table.Rows[r][col]!).Distinct(StringComparer.Ordinal).ToList();
                var names = values.All(v => CsvColumnInference.TryNumber(v, out _))
                    ? values.OrderBy(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList()
                    : values.Order(StringComparer.Ordinal).ToList();
                var index = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
                targets.Add((new FittedTarget(name, name, names, pre.OneHotLabels ?? false),
                    rows.Select(r => index[table.Rows[r][col]!]).ToArray(), null));
            }
            else
            {
                targets.Add((new FittedTarget(name, name, null, false), null,
                    rows.Select(r => (float)double.Parse(table.Rows[r][col]!, CultureInfo.InvariantCulture)).ToArray()));
            }
        }

        var stratifyOn = (pre.Stratify ?? true) ? targets.FirstOrDefault(t => t.Classes is not null).Classes : null;
        var (trainPos, testPos) = split ?? Sampling.Split(rows.Length, pre.TestFraction ?? 0.2, stratifyOn, pre.Seed);
        trainPos = Sampling.Subset(trainPos, pre.Subset?.Train, pre.Seed);
        testPos = Sampling.Subset(testPos, pre.Subset?.Test, pre.Seed + 1);

        // Fit every used column on the training rows (or those fitOn picks among them).
        var fitRows = trainPos.Select(p => rows[p]).ToArray();
        if (fitOn is not null)
        {
            var classes = targets.FirstOrDefault(t => t.Classes is not null).Classes;
            fitRows = fitOn(trainPos.Length, classes is null ? null : trainPos.Select(p => classes[p]).ToArray())
                .Select(i => fitRows[i]).ToArray();
        }
        var fittedGroups = new List<FittedInput>();
        for (var g = 0; g < groups.Count; g++)
        {
            var cols = groupCols[g].Select(c => FitColumn(table, c, IsCategorical(c), fitRows, tab)).ToArray();
            var width = cols.Sum(c => c.Width);
            fittedGroups.Add(new FittedInput
            {
                Name = groups[g].Key, RawShape = [width], RawDType = "float32", Shape = [width], Columns = cols,
            });
        }
        var fp = new FittedPreprocessing
        {
            Dataset = spec.Name, Kind = DatasetKind.Table, Inputs = fittedGroups, Targets = targets.Select(t => t.Fitted).ToArray(),
        };

        ArrayDataset Build(int[] positions)
        {
            var inputs = new List<Tensor>();
            var problems = new List<SpecError>();
            for (var g = 0; g < groups.Count; g++)
            {
                var f = fittedGroups[g];
                var data = new float[positions.Length * f.Shape[0]];
                for (var i = 0; i < positions.Length; i++)
                {
                    int r = rows[positions[i]], offset = 0;
                    for (var c = 0; c < f.Columns!.Count; c++)
                    {
                        var col = groupCols[g][c];
                        var problem = TabularEncoder.Encode(f.Columns[c], table.Rows[r][col], data.AsSpan(i * f.Shape[0] + offset, f.Columns[c].Width));
                        if (problem is not null && problems.Count < 20)
                            problems.Add(new SpecError("dataset", $"line {table.LineOf(r)}, column {col + 1}: {problem}"));
                        offset += f.Columns[c].Width;
                    }
                }
                inputs.Add(tensor(data).reshape(positions.Length, f.Shape[0]));
            }
            if (problems.Count > 0)
            {
                foreach (var t in inputs) t.Dispose();
                throw new SpecException(problems);
            }
            var outs = targets.Select(t => t.Classes is { } cls
                ? LabelTensor(positions.Select(p => (long)cls[p]).ToArray(), t.Fitted)
                : tensor(positions.Select(p => t.Values![p]).ToArray()).reshape(positions.Length, 1)).ToArray();
            return new ArrayDataset(inputs, outs, fp.CreateTransform());
        }

        return new PreparedDataset(Build(trainPos), Build(testPos), fp);
    }

    internal static Tensor LabelTensor(long[] labels, FittedTarget t)
    {
        var y = tensor(labels);
        if (!t.OneHot) return y;
        using (y) return nn.functional.one_hot(y, t.ClassNames!.Count).to_type(ScalarType.Float32);
    }

    private static FittedColumn FitColumn(CsvTable table, int col, bool categorical, int[] trainRows, TabularSpec tab)
    {
        var name = table.Header[col];
        var present = trainRows.Select(r => table.Rows[r][col]).Where(v => v is not null).Select(v => v!).ToList();
        string? MostFrequent() => present.GroupBy(v => v, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key).FirstOrDefault();
        var drop = tab.Missing == "drop";
        if (categorical)
        {
            var fill = drop ? null : tab.Missing == "constant" ? tab.MissingConstant : MostFrequent();
            var cats = present.Concat(fill is null || trainRows.All(r => table.Rows[r][col] is not null) ? [] : [fill])
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            return new FittedColumn(name, ColumnType.Categorical, null, fill, cats, null, null);
        }
        var nums = present.Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        double? numFill = drop ? null : tab.Missing switch
        {
            "constant" => CsvColumnInference.TryNumber(tab.MissingConstant, out var k) ? k
                : throw new SpecException("dataset.missing.constant", $"'{tab.MissingConstant}' is not a number, but column '{name}' is numeric."),
            "median" => Median(nums),
            "most_frequent" => nums.Length == 0 ? 0 : nums.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key,
            _ => nums.Length == 0 ? 0 : nums.Average(),
        };
        double? mean = null, std = null;
        if (tab.Standardize)
        {
            var filled = trainRows.Select(r => table.Rows[r][col] is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : numFill ?? 0).ToArray();
            mean = filled.Length == 0 ? 0 : filled.Average();
            var m = mean.Value;
            var s = filled.Length == 0 ? 0 : Math.Sqrt(filled.Sum(v => (v - m) * (v - m)) / filled.Length);
            std = s < 1e-12 ? 1 : s;
        }
        return new FittedColumn(name, ColumnType.Numeric, numFill, null, null, mean, std);
    }

    private static double Median(double[] values)
    {
        if (values.Length == 0) return 0;
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
