namespace NanoCam;

/// <summary>
/// Sizes of one 2-D pooling window sweep over an NCHW batch. With ceil mode the output size rounds up,
/// but a window that would start inside the end padding is dropped (the PyTorch and ONNX rule).
/// </summary>
public readonly record struct Pool2dGeometry(
    int Batch, int Channels, int InputHeight, int InputWidth,
    int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0,
    int DilationHeight = 1, int DilationWidth = 1, bool CeilMode = false)
{
    public int OutputHeight => OutputSize(InputHeight, KernelHeight, StrideHeight, PadTop, PadBottom, DilationHeight);
    public int OutputWidth => OutputSize(InputWidth, KernelWidth, StrideWidth, PadLeft, PadRight, DilationWidth);

    public Shape InputShape => new(Batch, Channels, InputHeight, InputWidth);

    /// <summary>Whether <paramref name="s"/> is this sweep's input shape (without allocating a Shape).</summary>
    public bool IsInputShape(Shape s) => s.Rank == 4 && s[0] == Batch && s[1] == Channels && s[2] == InputHeight && s[3] == InputWidth;
    public Shape OutputShape => new(Batch, Channels, OutputHeight, OutputWidth);

    private int OutputSize(int input, int kernel, int stride, int padBegin, int padEnd, int dilation)
    {
        int span = input + padBegin + padEnd - dilation * (kernel - 1) - 1;
        int output = (CeilMode ? (span + stride - 1) / stride : span / stride) + 1;
        // The last window must start inside the input or the begin padding.
        if (CeilMode && (output - 1) * stride >= input + padBegin) output--;
        return output;
    }

    public void Validate()
    {
        if (KernelHeight < 1 || KernelWidth < 1 || StrideHeight < 1 || StrideWidth < 1 || DilationHeight < 1 || DilationWidth < 1)
            throw new ArgumentException($"pool2d: kernel {KernelHeight}×{KernelWidth}, stride {StrideHeight}×{StrideWidth} and dilation must be positive");
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
            throw new ArgumentException("pool2d: padding must not be negative");
        if (OutputHeight < 1 || OutputWidth < 1)
            throw new ArgumentException($"pool2d: input {InputHeight}×{InputWidth} is smaller than the window {KernelHeight}×{KernelWidth}");
    }

    public static Pool2dGeometry For(Shape input, int kernel, int stride, int padding = 0, bool ceilMode = false) =>
        For(input, (kernel, kernel), (stride, stride), (padding, padding, padding, padding), (1, 1), ceilMode);

    public static Pool2dGeometry For(Shape input, (int H, int W) kernel, (int H, int W) stride, (int Top, int Left, int Bottom, int Right) pads, (int H, int W) dilation, bool ceilMode)
    {
        if (input.Rank != 4) throw new ArgumentException($"pool2d: input must be [N, C, H, W], got {input}");
        var g = new Pool2dGeometry(input[0], input[1], input[2], input[3], kernel.H, kernel.W, stride.H, stride.W,
            pads.Top, pads.Left, pads.Bottom, pads.Right, dilation.H, dilation.W, ceilMode);
        g.Validate();
        return g;
    }
}
