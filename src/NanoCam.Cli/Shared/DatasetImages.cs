using NanoCam.Data;
using NanoCam.Imaging;

namespace NanoCam.Cli.Shared;

/// <summary>
/// The images <c>explain-dataset</c> walks, chunk by chunk, prepared as the model expects: a data spec (a checkpoint gets
/// the data set through its own normalization, as eval does; an imported model gets each image through its preprocessing)
/// or a plain folder of image files (each through the model's preprocessing, as predict and explain do), labelled when
/// the folder holds one sub-folder per class.
/// </summary>
public sealed class DatasetImages
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];

    private readonly Func<int, int, float[]> _load;
    private readonly Func<int, string> _file;
    private readonly Func<int, long> _index;
    private readonly Func<int, int?> _label;
    private readonly Func<int, Explain.Metrics.Box?> _box;

    private DatasetImages(string description, int count, (int C, int H, int W) shape, Func<int, int, float[]> load, Func<int, string> file,
        Func<int, long> index, Func<int, int?> label, Func<int, Explain.Metrics.Box?> box)
    {
        Description = description;
        Count = count;
        (Channels, Height, Width) = shape;
        (_load, _file, _index, _label, _box) = (load, file, index, label, box);
    }

    public string Description { get; }
    public int Count { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int ImageSize => Channels * Height * Width;

    /// <summary>Images [first, first + count) as the model's input, [count, C, H, W].</summary>
    public float[] Load(int first, int count) => _load(first, count);

    /// <summary>Where image i comes from: its file, or SPEC#INDEX for a data set without files (that spec selects it again as SPEC#INDEX-INDEX+1).</summary>
    public string FileOf(int i) => _file(i);

    /// <summary>Image i's index in the data set named (a spec's range does not renumber it) or in the folder's sorted listing.</summary>
    public long IndexOf(int i) => _index(i);

    /// <summary>The true class of image i, when known.</summary>
    public int? LabelOf(int i) => _label(i);

    /// <summary>The ground-truth box of image i (half-open), when known.</summary>
    public Explain.Metrics.Box? BoxOf(int i) => _box(i);

    /// <summary>A data spec (see <see cref="DataSpec"/>) or a folder of images, for <paramref name="model"/>.</summary>
    public static DatasetImages Open(string data, string split, LoadedModel model, int chunk)
    {
        if (Directory.Exists(data)) return FromFolder(data, model);
        var dataset = DataSpec.Parse(data, split);
        if (dataset.Count < 1) throw new ArgumentException($"{dataset.Description} holds no images");
        var (inner, start) = dataset is RangeDataset r ? (r.Inner, r.Start) : (dataset, 0);
        int hash = data.LastIndexOf('#');
        string body = (hash >= 0 ? data[..hash] : data).Trim();
        Func<int, string> file = inner is ImageFolderDataset folder ? i => folder.GetPath(start + i) : i => $"{body}#{start + i}";
        Func<int, long> index = i => start + i;
        Func<int, int?> label = i => dataset.GetLabel(i);
        Func<int, Explain.Metrics.Box?> box = i => dataset.GetBox(i) is { } b ? Evaluation.ToExclusive(b) : null;
        if (model.Metadata is { } metadata)
        {
            // The data set's own normalization, as eval: the loader's batch k is chunk k.
            Evaluation.CheckImageSize(metadata, dataset);
            var loader = new DataLoader(dataset, chunk, DataLoaderOptions.Evaluation with { Mean = metadata.Mean, Std = metadata.Std });
            float[] Load(int first, int count)
            {
                if (first % chunk != 0 || count != Math.Min(chunk, dataset.Count - first))
                    throw new InvalidOperationException($"images {first}…{first + count - 1} are not chunk {first / chunk}");
                return loader.GetBatch(0, first / chunk).Images.ToArray();
            }
            return new(dataset.Description, dataset.Count, (dataset.Channels, dataset.Height, dataset.Width), Load, file, index, label, box);
        }
        // An imported model: every image of the data set through the model's preprocessing, as an image file would go.
        var chw = new float[dataset.ImageSize];
        var (first0, _) = model.Prepare(ImageOf(dataset, 0, chw));
        return new(dataset.Description, dataset.Count, (first0.Shape[1], first0.Shape[2], first0.Shape[3]),
            (first, count) => Prepared(model, count, i => ImageOf(dataset, first + i, chw)), file, index, label, box);
    }

    private static RgbImage ImageOf(Dataset dataset, int i, float[] chw)
    {
        dataset.GetImage(i, chw);
        return RgbImage.FromPlanar(chw, dataset.Channels, dataset.Height, dataset.Width);
    }

    /// <summary>
    /// DIR/*.png (no labels) or DIR/CLASS/*.png (labelled: CLASS is the model's class of that name, else the index of the
    /// sub-folder in sorted order); files in ordinal order.
    /// </summary>
    private static DatasetImages FromFolder(string directory, LoadedModel model)
    {
        static bool IsImage(string f) => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant());
        var direct = Directory.GetFiles(directory).Where(IsImage).Order(StringComparer.Ordinal).ToArray();
        var files = new List<(string Path, int? Label)>();
        if (direct.Length > 0) files.AddRange(direct.Select(f => (f, (int?)null)));
        else
        {
            var classes = Directory.GetDirectories(directory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
            var names = model.Explainable.ClassNames?.ToList();
            bool byName = names is not null && classes.All(names.Contains);
            for (int c = 0; c < classes.Length; c++)
                files.AddRange(Directory.GetFiles(Path.Combine(directory, classes[c])).Where(IsImage).Order(StringComparer.Ordinal)
                    .Select(f => (f, (int?)(byName ? names!.IndexOf(classes[c]) : c))));
        }
        if (files.Count == 0) throw new ArgumentException($"--data '{directory}' holds no PNG/JPEG/BMP images (DIR/*.png, or DIR/CLASS/*.png for labelled images)");
        var (first0, _) = model.Prepare(ImageCodec.Load(files[0].Path));
        return new($"folder {directory} ({files.Count} images)", files.Count, (first0.Shape[1], first0.Shape[2], first0.Shape[3]),
            (first, count) => Prepared(model, count, i => ImageCodec.Load(files[first + i].Path)),
            i => Path.GetRelativePath(directory, files[i].Path).Replace('\\', '/'), i => i, i => files[i].Label, _ => null);
    }

    private static float[] Prepared(LoadedModel model, int count, Func<int, RgbImage> image)
    {
        float[]? values = null;
        for (int i = 0; i < count; i++)
        {
            var input = model.Prepare(image(i)).Input;
            values ??= new float[count * input.Size];
            input.ToArray().CopyTo(values, i * input.Size);
        }
        return values!;
    }
}
