using NanoCam.Autodiff;
using NanoCam.Nn.Modules;
using NanoCam.Ops;

namespace NanoCam.Nn.Models;

/// <summary>
/// det-grid: a single-shot detector in the manner of YOLO v1 (Redmon et al., CVPR 2016, Sec. 2) with one box per cell:
/// four conv-BN-ReLU + 2×2 max pool stages and one more conv-BN-ReLU bring the input to an S×S grid (S = side / 16), a
/// 1×1 convolution gives each cell 4 + 1 + K raw values t. <see cref="Forward"/> decodes them inside the network, so the
/// output is directly the raw detector layout [N, S·S, 4 + 1 + K] that <c>--target box</c> reads (cells row-major):
/// cx = (j + σ(t_x))·W/S, cy = (i + σ(t_y))·H/S, w = σ(t_w)·W, h = σ(t_h)·H in input pixels, objectness σ(t_o) and class
/// probabilities softmax(t_c). Training reads the undecoded <see cref="RawHead"/>.
/// </summary>
public sealed class GridDetector : Module, IDenseModel
{
    /// <summary>Name under which the S×S feature map (the default CAM layer) is published.</summary>
    public const string FeatureLayer = "features";

    /// <summary>How many pixels one grid cell spans: four 2×2 pools.</summary>
    public const int CellSide = 16;

    private Tensor? _offsets, _scales, _offsetsHost, _scalesHost;
    private (int Rows, int Cols, int Height, int Width) _constantsFor;

    public GridDetector(int inputChannels, int classes, Random rng)
    {
        Classes = classes;
        Conv2d Conv(int cin, int cout) => new(cin, cout, 3, padding: 1, rng: rng);
        Features = AddChild(FeatureLayer, new Sequential(
            Conv(inputChannels, 16), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
            Conv(16, 32), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            Conv(32, 64), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            Conv(64, 64), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            Conv(64, 64), new BatchNorm2d(64), new ReLU()));
        Head = AddChild("head", new Conv2d(64, 5 + classes, 1, rng: rng));
        AssignPaths();
    }

    /// <summary>The number of object classes K.</summary>
    public int Classes { get; }

    /// <summary>Values per box: 4 + 1 + K.</summary>
    public int BoxWidth => 5 + Classes;

    public Sequential Features { get; }
    public Conv2d Head { get; }

    public string DefaultLayer => FeatureLayer;

    /// <summary>The undecoded head t [N, 4 + 1 + K, S, S].</summary>
    public Tensor RawHead(Tape tape, Tensor input) => Head.Call(tape, Features.Call(tape, input));

    /// <summary>Decoded boxes [N, S·S, 4 + 1 + K]: [cx, cy, w, h, objectness, class probabilities…] in input pixels.</summary>
    public override Tensor Forward(Tape tape, Tensor input)
    {
        var raw = RawHead(tape, input);
        int n = raw.Shape[0], rows = raw.Shape[2], cols = raw.Shape[3];
        var (offsets, scales) = Constants(tape, rows, cols, input.Shape[2], input.Shape[3]);
        Tensor Channels(int first, int count) => tape.Slice(raw, [0, first, 0, 0], [1, 1, 1, 1], [n, count, rows, cols]);
        // [cx, cy, w, h] = (σ(t_xywh) + [j, i, 0, 0])·[W/S, H/S, W, H]
        var box = tape.Mul(tape.Add(tape.Sigmoid(Channels(0, 4)), offsets), scales);
        var objectness = tape.Sigmoid(Channels(4, 1));
        var classes = tape.Softmax(Channels(5, Classes), axis: 1);
        var decoded = tape.Concat([box, objectness, classes], axis: 1);
        return tape.Transpose(tape.Reshape(decoded, [n, BoxWidth, rows * cols]), [0, 2, 1]);
    }

    /// <summary>The grid offsets [1, 4, S, S] (column j, row i, 0, 0) and scales [1, 4, 1, 1] (W/S, H/S, W, H), built once per size.</summary>
    private (Tensor Offsets, Tensor Scales) Constants(Tape tape, int rows, int cols, int height, int width)
    {
        if (_offsetsHost is null || _constantsFor != (rows, cols, height, width))
        {
            _constantsFor = (rows, cols, height, width);
            var offsets = new float[4 * rows * cols];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    offsets[i * cols + j] = j;
                    offsets[rows * cols + i * cols + j] = i;
                }
            _offsetsHost = Tensor.FromArray(offsets, 1, 4, rows, cols);
            _scalesHost = Tensor.FromArray([(float)width / cols, (float)height / rows, width, height], 1, 4, 1, 1);
        }
        return (tape.Kernels.Stage(_offsetsHost, ref _offsets), tape.Kernels.Stage(_scalesHost!, ref _scales));
    }

    /// <summary>
    /// The same decoding on the host, for one cell of a raw head read back [4 + 1 + K, S, S]: what training counts its
    /// hits with (<see cref="Forward"/> is the reference; a test holds the two equal).
    /// </summary>
    public static (float X1, float Y1, float X2, float Y2, float Objectness, int Class) DecodeCell(ReadOnlySpan<float> raw, int channels, int rows, int cols, int cell, int height, int width)
    {
        int plane = rows * cols, i = cell / cols, j = cell % cols;
        static float Sigmoid(float t) => 1f / (1f + MathF.Exp(-t));
        float cx = (j + Sigmoid(raw[cell])) * width / cols, cy = (i + Sigmoid(raw[plane + cell])) * height / rows;
        float w = Sigmoid(raw[2 * plane + cell]) * width, h = Sigmoid(raw[3 * plane + cell]) * height;
        int best = 0;
        for (int k = 1; k < channels - 5; k++) if (raw[(5 + k) * plane + cell] > raw[(5 + best) * plane + cell]) best = k;
        return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, Sigmoid(raw[4 * plane + cell]), best);
    }

    public int[] OutputDims(int height, int width) => [height / CellSide * (width / CellSide), BoxWidth];

    public IReadOnlyList<string> OutputClassNames(IReadOnlyList<string> classNames) => classNames;

    public void CheckInputSize(int height, int width)
    {
        if (height % CellSide != 0 || width % CellSide != 0)
            throw new ArgumentException($"--arch det-grid: the images are {height}×{width}; its grid cells are {CellSide} px (four 2×2 pools), so both sides must be multiples of {CellSide}");
    }
}
