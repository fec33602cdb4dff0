using System.Globalization;
using System.IO.Compression;
using static TorchSharp.torch;

namespace TrainingService.Training.Datasets;

/// <summary>The two small sets shipped inside the assembly (scikit-learn's digits and iris, BSD-3-Clause; see
/// Datasets/Bundled/LICENSE.txt). Neither has a test split.</summary>
internal static class BundledDatasets
{
    public static RawDataset Digits()
    {
        using var gz = new GZipStream(Open("digits.csv.gz"), CompressionMode.Decompress);
        var rows = ReadRows(gz, skipHeader: false);
        var pixels = new byte[rows.Count * 64];
        var labels = new byte[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            for (var k = 0; k < 64; k++) pixels[i * 64 + k] = (byte)rows[i][k];
            labels[i] = (byte)rows[i][64];
        }
        var d = DatasetCatalog.Find("digits")!;
        return new RawDataset
        {
            Name = d.Name, Kind = d.Kind, ClassNames = d.ClassNames, Source = "bundled",
            TrainX = tensor(pixels).reshape(rows.Count, 8, 8), TrainY = tensor(labels),
        };
    }

    public static RawDataset Iris()
    {
        var rows = ReadRows(Open("iris.csv"), skipHeader: true);
        var features = new float[rows.Count * 4];
        var labels = new byte[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            for (var k = 0; k < 4; k++) features[i * 4 + k] = (float)rows[i][k];
            labels[i] = (byte)rows[i][4];
        }
        var d = DatasetCatalog.Find("iris")!;
        return new RawDataset
        {
            Name = d.Name, Kind = d.Kind, ClassNames = d.ClassNames, Source = "bundled",
            TrainX = tensor(features).reshape(rows.Count, 4), TrainY = tensor(labels),
        };
    }

    private static Stream Open(string file) =>
        typeof(BundledDatasets).Assembly.GetManifestResourceStream("TrainingService.Datasets." + file)
        ?? throw new InvalidOperationException($"Bundled dataset resource {file} is missing from the assembly.");

    private static List<double[]> ReadRows(Stream stream, bool skipHeader)
    {
        using var reader = new StreamReader(stream);
        if (skipHeader) reader.ReadLine();
        var rows = new List<double[]>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            rows.Add(line.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray());
        }
        return rows;
    }
}
