using System.Text;
using System.Text.Json;
using TrainingService.Training.Datasets;
using TrainingService.Training.Datasets.Preprocessing;
using TrainingService.Training.Specs;

namespace TrainingService.Datasets.Tests;

public class CsvTests
{
    private const string People = """
        age,city,income,bought
        30,paris,100,yes
        ,london,200,no
        50,paris,,yes
        40,,400,no
        20,berlin,300,yes
        60,london,500,no

        """;

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s.Replace("\r\n", "\n"));

    private static CsvException Refused(string csv, long max = 1 << 20) =>
        Assert.Throws<CsvException>(() => CsvParser.Parse(Bytes(csv), max));

    [Theory]
    [InlineData("a,b,c,d\n1,2,3,4\n", "more than 3 columns")]
    [InlineData("a,b\n1,22222222222\n", "a record longer than 10 characters")]
    [InlineData("a,b\n1,2\n3,4\n5,6\n", "more than 2 rows")]
    public void Csv_PastAShapeLimit_IsRefusedWhileParsing(string csv, string message)
    {
        var limits = new CsvLimits { MaxColumns = 3, MaxRecordChars = 10, MaxRows = 2 };
        var e = Assert.Throws<CsvException>(() => CsvParser.Parse(Bytes(csv), 1 << 20, limits));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Csv_HeaderWithTwoHundredThousandColumns_IsRefusedAtTheColumnLimit()
    {
        var header = string.Join(",", Enumerable.Range(0, 200_000).Select(i => $"c{i}"));
        var e = Assert.Throws<CsvException>(() => CsvParser.Parse(Bytes(header + "\n" + header + "\n"), 1 << 24,
            new CsvLimits { MaxRecordChars = int.MaxValue }));
        Assert.Contains("more than 10000 columns", e.Message);
    }

    [Fact]
    public void Csv_RaggedRow_IsRefusedWithLineAndColumn()
    {
        var e = Refused("a,b,c\n1,2,3\n4,5\n");
        Assert.Equal(3, e.Line);
        Assert.Equal(3, e.Column);
        Assert.Contains("2 fields, but the header has 3", e.Message);
    }

    [Fact]
    public void Csv_NoRows_IsRefused() => Assert.Contains("no rows", Refused("a,b\n").Message);

    [Fact]
    public void Csv_Empty_IsRefused() => Assert.Contains("empty", Refused("").Message);

    [Fact]
    public void Csv_TooBig_IsRefused() => Assert.Contains("limit is 10", Refused("a,b\n1,2\n3,4\n", max: 10).Message);

    [Fact]
    public void Csv_UnclosedQuote_IsRefusedWithLine()
    {
        var e = Refused("a,b\n1,\"x\n2,3\n");
        Assert.Equal(2, e.Line);
        Assert.Equal(2, e.Column);
    }

    [Fact]
    public void Csv_QuotedFieldsWithCommasAndNewlines_Parse()
    {
        var t = CsvParser.Parse(Bytes("name,note\r\n\"Smith, J\",\"two\nlines\"\r\nx,\"say \"\"hi\"\"\"\r\n"), 1 << 20);
        Assert.Equal("Smith, J", t.Rows[0][0]);
        Assert.Equal("two\nlines", t.Rows[0][1]);
        Assert.Equal("say \"hi\"", t.Rows[1][1]);
        Assert.Equal(4, t.LineOf(1));
    }

    [Fact]
    public async Task Csv_TextInNumericColumn_IsRefusedWithLineAndColumn()
    {
        using var dir = new TempFolder();
        var rows = string.Join("\n", Enumerable.Range(0, 30).Select(i => i == 17 ? "thirty,1" : $"{i},1"));
        var e = await Assert.ThrowsAsync<CsvException>(() => new CsvUploadStore(new CsvUploadFolder(dir.Path), 1 << 20).StoreAsync(Bytes("age,y\n" + rows + "\n"), CancellationToken.None));
        Assert.Equal(19, e.Line);
        Assert.Equal(1, e.Column);
        Assert.Contains("'thirty'", e.Message);
    }

    [Fact]
    public async Task Upload_IsStoredByContentHash_AndTypesAreInferred()
    {
        using var dir = new TempFolder();
        var store = new CsvUploadStore(new CsvUploadFolder(dir.Path), 1 << 20);
        var bytes = Bytes(People);
        var upload = await store.StoreAsync(bytes, CancellationToken.None);
        var again = await store.StoreAsync(bytes, CancellationToken.None);

        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), upload.Id);
        Assert.Equal(upload.Id, again.Id);
        Assert.Single(Directory.GetFiles(dir.Path));
        Assert.Equal(6, upload.Rows);
        Assert.Equal(new[] { ColumnType.Numeric, ColumnType.Categorical, ColumnType.Numeric, ColumnType.Categorical },
            upload.Columns.Select(c => c.Type));
        Assert.Equal(1, upload.Columns[0].Missing);
        Assert.Equal(3, upload.Columns[1].Distinct);
    }

    [Fact]
    public void Prepare_UnknownColumn_IsRefusedListingColumns()
    {
        var table = CsvParser.Parse(Bytes(People), 1 << 20);
        var spec = Spec("""{"target": "bougth", "features": ["age", "town"]}""");
        var e = Assert.Throws<SpecException>(() => TabularPreparer.Prepare(spec, table));
        Assert.Contains(e.Errors, x => x.Path == "dataset.target" && x.Message.Contains("age, city, income, bought"));
        Assert.Contains(e.Errors, x => x.Path == "dataset.features[1]" && x.Message.Contains("'town'"));
    }

    [Fact]
    public void Prepare_TextFeature_IsRefusedWithLineAndColumn()
    {
        var csv = "note,y\n" + string.Join("\n", Enumerable.Range(0, 30).Select(i => $"free text number {i},{i % 2}")) + "\n";
        var table = CsvParser.Parse(Bytes(csv), 1 << 20);
        var e = Assert.Throws<SpecException>(() => TabularPreparer.Prepare(Spec("""{"target": "y"}"""), table));
        var err = Assert.Single(e.Errors);
        Assert.Contains("line 2, column 1", err.Message);
        Assert.Contains("categorical", err.Message);
    }

    private static DatasetSpec Spec(string tabularKeys)
    {
        var doc = JsonDocument.Parse(tabularKeys).RootElement;
        var merged = new Dictionary<string, JsonElement> { ["name"] = JsonDocument.Parse($"\"csv:{new string('c', 64)}\"").RootElement };
        foreach (var p in doc.EnumerateObject()) merged[p.Name] = p.Value;
        return DatasetSpec.Parse(JsonSerializer.SerializeToElement(merged));
    }

    [Fact]
    public void Prepare_WithFitOn_FitsImputationCategoriesAndStatisticsOnThePickedRowsOnly()
    {
        var table = CsvParser.Parse(Bytes(People), 1 << 20);
        var spec = Spec("""{"target": "bought", "missing": "mean", "standardize": true}""");
        int[]? seenClasses = null;

        // Train rows 0-3; fit on rows 0 and 2 only (age 30, 50; city paris, paris; income 100, missing).
        using var data = TabularPreparer.Prepare(spec, table, ([0, 1, 2, 3], [4, 5]), (count, classes) =>
        {
            Assert.Equal(4, count);
            seenClasses = classes;
            return [0, 2];
        });

        Assert.Equal(new[] { 1, 0, 1, 0 }, seenClasses); // bought: yes, no, yes, no with classes [no, yes]
        var columns = data.Preprocessing.Inputs[0].Columns!;
        Assert.Equal(40, columns[0].Mean!.Value, 6);
        Assert.Equal(10, columns[0].Std!.Value, 6);
        Assert.Equal(new[] { "paris" }, columns[1].Categories);
        Assert.Equal(100, columns[2].NumericFill!.Value, 6);
        // Row 1 (not fitted on): age missing → 40 → 0; london unseen → zeros; income 200 → (200-100)/std 1.
        var row1 = data.Train.Inputs[0].data<float>().ToArray()[3..6];
        AssertClose([0, 0, 100], row1);
    }

    /// <summary>Expected numbers worked out by hand from the six rows above, with rows 0-3 as train and 4-5 as test:
    /// age: present 30, 50, 40 → fill 40; filled 30, 40, 50, 40 → mean 40, std √50.
    /// city: present paris, london, paris → fill paris; categories [london, paris]; berlin is unseen → all zeros.
    /// income: present 100, 200, 400 → fill 700/3; filled → mean 700/3, std √(Σ(v-mean)²/4).</summary>
    [Fact]
    public void Prepare_CategoricalAndMissing_FitsOnTrainAndTransformsRecordsTheSameWay()
    {
        var table = CsvParser.Parse(Bytes(People), 1 << 20);
        var spec = Spec("""{"target": "bought", "missing": "mean", "standardize": true}""");

        using var data = TabularPreparer.Prepare(spec, table, ([0, 1, 2, 3], [4, 5]));

        var ageStd = Math.Sqrt(50);
        var incMean = 700.0 / 3;
        var incStd = Math.Sqrt(new[] { 100, 200, incMean, 400 }.Sum(v => (v - incMean) * (v - incMean)) / 4);
        float[] Row(double age, int london, int paris, double income) =>
            [(float)((age - 40) / ageStd), london, paris, (float)((income - incMean) / incStd)];

        Assert.Equal(new long[] { 4, 4 }, data.Train.Inputs[0].shape);
        var train = data.Train.Inputs[0].data<float>().ToArray();
        AssertClose(Row(40, 0, 1, 400), train[12..16]); // row 3: city missing → paris
        AssertClose(Row(50, 0, 1, incMean), train[8..12]); // row 2: income missing → mean
        var test = data.Test.Inputs[0].data<float>().ToArray();
        AssertClose([.. Row(20, 0, 0, 300), .. Row(60, 1, 0, 500)], test);
        Assert.Equal(new long[] { 1, 0, 1, 0 }, data.Train.Targets[0].data<long>().ToArray());
        Assert.Equal(new long[] { 1, 0 }, data.Test.Targets[0].data<long>().ToArray());
        Assert.Equal(new[] { "no", "yes" }, data.Preprocessing.Targets[0].ClassNames);

        // What is stored with the run equals what was fitted...
        var json = data.Preprocessing.ToJson();
        var stored = FittedPreprocessing.FromJson(json);
        Assert.Equal(json, stored.ToJson());
        var cols = stored.Inputs[0].Columns!;
        Assert.Equal(40, cols[0].NumericFill);
        Assert.Equal("paris", cols[1].CategoryFill);
        Assert.Equal(new[] { "london", "paris" }, cols[1].Categories);
        Assert.Equal(incStd, cols[2].Std!.Value, 9);

        // ...and raw records go through the same transform as the training rows.
        var records = JsonDocument.Parse("""
            [{"age": 20, "city": "berlin", "income": 300}, {"age": "60", "city": "london", "income": 500},
             {"age": null, "city": "london", "income": 200}, {"city": "paris", "income": 400}]
            """).RootElement;
        var inputs = stored.PrepareInstances(records);
        var got = inputs[0].data<float>().ToArray();
        AssertClose([.. test, .. Row(40, 1, 0, 200), .. Row(40, 0, 1, 400)], got);

        var sig = data.Signature;
        Assert.Equal(new[] { 4 }, sig.Inputs[0].Shape);
        Assert.Equal(2, sig.Targets[0].Classes);
    }

    [Fact]
    public void Predict_RecordWithTextInNumericColumn_NamesInstanceAndColumn()
    {
        var table = CsvParser.Parse(Bytes(People), 1 << 20);
        using var data = TabularPreparer.Prepare(Spec("""{"target": "bought"}"""), table, ([0, 1, 2, 3], [4, 5]));
        var e = Assert.Throws<SpecException>(() => data.Preprocessing.PrepareInstances(
            JsonDocument.Parse("""[{"age": 1, "city": "x", "income": 2}, {"age": "old", "city": "x", "income": 2}]""").RootElement));
        var err = Assert.Single(e.Errors);
        Assert.Equal("instances[1].age", err.Path);
        Assert.Contains("not a number", err.Message);
    }

    [Fact]
    public void Prepare_SeveralTargetsAndFeatureGroups_GiveSeveralInputsAndOutputs()
    {
        var table = CsvParser.Parse(Bytes(People), 1 << 20);
        var spec = Spec("""{"target": ["bought", "income"], "features": {"who": ["age"], "where": ["city"]}, "missing": "drop"}""");
        using var data = TabularPreparer.Prepare(spec, table);
        // drop: rows 1, 2, 3 miss a value; 3 rows remain.
        Assert.Equal(3, data.Train.Count + data.Test.Count);
        Assert.Equal(1, data.Test.Count);
        Assert.Equal(2, data.Signature.Inputs.Count);
        Assert.Equal(new[] { 1 }, data.Signature.Inputs[0].Shape);
        Assert.Equal(new[] { 2 }, data.Signature.Inputs[1].Shape); // the two cities of the two training rows
        Assert.Equal(2, data.Signature.Targets.Count);
        Assert.Null(data.Signature.Targets[1].Classes);
        Assert.Equal(new[] { 1 }, data.Signature.Targets[1].Shape);
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }
}
