namespace NanoCam.Nn.Models;

/// <summary>
/// A network whose output is more than one score per class: a map per class (segmentation) or a row per box
/// (detection). Its explanations differentiate a <c>--target</c> over that output, not a class score.
/// </summary>
public interface IDenseModel
{
    /// <summary>One image's output shape after the batch axis for an input of <paramref name="height"/>×<paramref name="width"/> pixels.</summary>
    int[] OutputDims(int height, int width);

    /// <summary>The names of the output's classes, in output order, given the dataset's <paramref name="classNames"/>.</summary>
    IReadOnlyList<string> OutputClassNames(IReadOnlyList<string> classNames);

    /// <summary>The published layer a CAM reads by default (the last spatial feature map before the head).</summary>
    string DefaultLayer { get; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the problem when the network cannot take images of this size.</summary>
    void CheckInputSize(int height, int width);
}
