using NanoCam.Cli.Commands;

namespace NanoCam.Cli.Serve;

/// <summary>
/// The folder given with <c>--images</c>: the image files directly inside it, served by bare file name only. A name
/// with a separator, <c>..</c>, a root or a control character is refused, and so is any file whose real location
/// (after following links) is not inside the folder, so no request reads a path outside it.
/// </summary>
public sealed class ImageFolder
{
    private readonly string _root;

    public ImageFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new ArgumentException($"--images '{folder}' is not a folder");
        _root = RealPath(Path.GetFullPath(folder));
    }

    /// <summary>The image files directly in the folder that stay inside it, by name, in ordinal order.</summary>
    public IReadOnlyList<string> Names() =>
        [.. Directory.EnumerateFiles(_root)
            .Where(f => PredictCommand.ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()) && Inside(f))
            .Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    /// <summary>
    /// The full path of image <paramref name="name"/>. A name that is not a bare file name is an <see cref="ArgumentException"/>
    /// (the request is wrong); a file that is not there, or not an image of the folder, is a <see cref="FileNotFoundException"/>.
    /// </summary>
    public string Resolve(string name)
    {
        if (name.Length == 0 || name.Length > 255 || name is "." or ".." || name.Contains("..", StringComparison.Ordinal)
            || name.IndexOfAny(['/', '\\', ':']) >= 0 || name.Any(char.IsControl) || Path.IsPathRooted(name))
            throw new ArgumentException($"image name '{Shown(name)}' is not a file name of the --images folder (no folders, no '..')");
        if (!PredictCommand.ImageExtensions.Contains(Path.GetExtension(name).ToLowerInvariant()))
            throw new ArgumentException($"image name '{Shown(name)}' is not an image ({string.Join(", ", PredictCommand.ImageExtensions)})");
        var path = Path.GetFullPath(Path.Combine(_root, name));
        if (!string.Equals(Path.GetDirectoryName(path), _root, StringComparison.Ordinal) || !File.Exists(path) || !Inside(path))
            throw new FileNotFoundException($"no image '{Shown(name)}' in the --images folder");
        return path;
    }

    /// <summary>Whether the file, links followed, lies in the folder itself.</summary>
    private bool Inside(string file)
    {
        try
        {
            var real = RealPath(file);
            return string.Equals(Path.GetDirectoryName(real), _root, StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>The path with every link along it followed (the folder itself may be a link).</summary>
    private static string RealPath(string path)
    {
        var parent = Path.GetDirectoryName(path);
        var resolvedParent = parent is null ? null : RealPath(parent);
        var here = resolvedParent is null ? path : Path.Combine(resolvedParent, Path.GetFileName(path));
        FileSystemInfo info = Directory.Exists(here) ? new DirectoryInfo(here) : new FileInfo(here);
        return info.LinkTarget is null ? here : RealPath(Path.GetFullPath(info.ResolveLinkTarget(returnFinalTarget: true)!.FullName));
    }

    private static string Shown(string name) => DisplayText.Quote(name, 80);
}
