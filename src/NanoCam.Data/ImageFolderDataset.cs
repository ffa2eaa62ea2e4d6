using NanoCam.Imaging;

namespace NanoCam.Data;

/// <summary>
/// Images in one sub-folder per class (class names = sorted folder names), PNG/JPEG/BMP, decoded once and resized
/// bilinearly to a common size (default: the first image's size). 3 channels.
/// </summary>
public sealed class ImageFolderDataset : Dataset
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];

    private readonly float[][] _images;
    private readonly int[] _labels;
    private readonly string[] _classNames;
    private readonly string[] _paths;

    public ImageFolderDataset(string directory, int? width = null, int? height = null)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"image folder not found: {directory}");
        _classNames = Directory.GetDirectories(directory).Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal).ToArray();
        if (_classNames.Length == 0) throw new InvalidDataException($"{directory}: no class sub-folders (expected DIR/CLASS/*.png)");

        var files = new List<(string Path, int Label)>();
        for (int c = 0; c < _classNames.Length; c++)
            files.AddRange(Directory.GetFiles(Path.Combine(directory, _classNames[c]))
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal).Select(f => (f, c)));
        if (files.Count == 0) throw new InvalidDataException($"{directory}: the class folders hold no PNG/JPEG/BMP images");

        RgbImage first = ImageCodec.Load(files[0].Path);
        Width = width ?? first.Width;
        Height = height ?? first.Height;
        if (Width <= 0 || Height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"size must be positive, got {Width}×{Height}");

        _images = new float[files.Count][];
        _labels = new int[files.Count];
        _paths = new string[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            RgbImage image = i == 0 ? first : ImageCodec.Load(files[i].Path);
            RgbImage sized = image.Width == Width && image.Height == Height ? image : Resize.Bilinear(image, Width, Height);
            _images[i] = new float[3 * Width * Height];
            sized.ToPlanar(_images[i]);
            _labels[i] = files[i].Label;
            _paths[i] = files[i].Path;
        }
        Root = directory;
    }

    public string Root { get; }
    public override int Count => _images.Length;
    public override IReadOnlyList<string> ClassNames => _classNames;
    public override int Channels => 3;
    public override int Height { get; }
    public override int Width { get; }
    public override string Description => $"folder {Root} ({Count} × 3×{Height}×{Width}, {_classNames.Length} classes)";

    /// <summary>The file example <paramref name="index"/> was read from.</summary>
    public string GetPath(int index) { CheckIndex(index); return _paths[index]; }

    public override void GetImage(int index, Span<float> chw)
    {
        CheckIndex(index);
        CheckDestination(chw);
        _images[index].CopyTo(chw);
    }

    public override int GetLabel(int index) { CheckIndex(index); return _labels[index]; }
}
