using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NanoCam.Cpu.Simd.Conv;
using NanoCam.Cpu.Simd.Gemm;
using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    // Convolution per image and group as GEMMs over the patch matrix (see Im2Col):
    //   forward          Y_g[Kg, OHW]     = W_g[Kg, CgRS] · col[CgRS, OHW]  (+ bias per row; col packed from x on the fly)
    //   backward input   dcol[CgRS, OHW]  = W_gᵀ · dY_g,   dX += col2im(dcol)
    //   backward weight  dW_g[Kg, CgRS]  += dY_g · colᵀ
    // 3×3 stride-1 undilated convolutions with enough channels and tiles run forward, backward input and backward
    // weight by Winograd instead (WinogradConv; the input gradient as the forward sum of dY with the turned filter, the
    // weight gradient by F(3×3, 2×2), up to 32 input channels per group); dilated ones that keep the map's size run as
    // undilated ones on the map's polyphase components (DilatedPhases), which Winograd then takes.
    // A batch of at least two images is split across threads image by image (each chunk with its own GEMM and
    // scratch, weight gradients reduced in chunk order); a single image uses the threaded GEMM instead.
    // Depthwise convolutions (one input channel per group) run forward as direct sums (DepthwiseConv), planes split
    // across threads, and so does the input gradient of stride-1 ones with one output channel per input channel; their
    // weight gradient runs there too (a dot product per tap, channels split across threads); the other input gradients
    // take the per-group GEMMs below.

    /// <summary>BackwardInputWrite: dX = … (its old contents ignored) rather than dX += ….</summary>
    private enum ConvPass { Forward, BackwardInput, BackwardInputWrite, BackwardWeight }

    /// <summary>Output columns (images × OH·OW) one GEMM aims for when feature maps are small.</summary>
    private const int BlockColumns = 1024;

    /// <summary>
    /// The same for the weight gradient, whose GEMM reads the block's patch matrix transposed: measured on the GAP-CNN's
    /// 64 → 128 layer (7×7, batch 64, 1 thread, fastest of 3 runs each), 256 columns (5 images) took 0.48 ms to gather
    /// and 2.16 ms to multiply, against 0.68 and 2.25 ms at 1024 (the 2.3 MB patch matrix no longer stayed in L2);
    /// 128 and 196 ran like 256, 384 and 512 in between, 2048 slowest.
    /// </summary>
    private const int WeightBlockColumns = 256;

    /// <summary>Patch rows (Cg·R·S) up to which a block's weight gradient is dot products rather than a GEMM (a first layer: 1·3·3).</summary>
    private const int FewPatchRows = 16;

    private readonly ConvJob _convJob = new();
    private readonly DepthwiseConv _depthwise = new();

    /// <summary>
    /// Whether depthwise convolutions run forward, backward to the weights (and stride-1 ones backward to the input) on <see cref="DepthwiseConv"/>
    /// (the default) rather than as one GEMM per channel; off only to measure one against the other.
    /// </summary>
    public bool DepthwiseKernel { get; init; } = true;

    /// <summary>Whether this instance runs <paramref name="g"/> forward on the depthwise kernel.</summary>
    internal bool RunsDepthwise(in Conv2dGeometry g) => DepthwiseKernel && DepthwiseConv.Applies(g);
    private ConvScratch[] _convScratch = [];

    public void Conv2dForward(Tensor output, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g)
    {
        Check.Conv(g, output, input, weight);
        fixed (float* y = output.Data, x = input.Data, w = weight.Data, b = bias is null ? null : bias.Data)
            RunConv(ConvPass.Forward, g, y, x, w, bias is null ? null : b);
    }

    public void Conv2dBackwardInput(Tensor dInput, Tensor dOutput, Tensor weight, Conv2dGeometry g, bool accumulate = true)
    {
        Check.Conv(g, dOutput, dInput, weight);
        fixed (float* dy = dOutput.Data, dx = dInput.Data, w = weight.Data)
            RunConv(accumulate ? ConvPass.BackwardInput : ConvPass.BackwardInputWrite, g, dy, dx, w, null);
    }

    public void Conv2dBackwardWeight(Tensor dWeight, Tensor dOutput, Tensor input, Conv2dGeometry g)
    {
        Check.Conv(g, dOutput, input, dWeight);
        fixed (float* dy = dOutput.Data, x = input.Data, dw = dWeight.Data)
            RunConv(ConvPass.BackwardWeight, g, dy, x, dw, null);
    }

    /// <summary>db[j] += Σ over images and positions of dY[·, j, ·], channels split across the pool.</summary>
    public void Conv2dBackwardBias(Tensor dBias, Tensor dOutput)
    {
        int n = dOutput.Shape[0], k = dOutput.Shape[1], plane = dOutput.Shape.Product(2, dOutput.Shape.Rank);
        if (dBias.Size != k) throw new ArgumentException($"conv2d backward bias: dBias {dBias.Shape} does not match the {k} channels of dOutput {dOutput.Shape}");
        fixed (float* db = dBias.Data, dy = dOutput.Data)
            RunSplit(SplitPass.BiasBackward, k, dOutput.Size, db, dy, null, images: n, plane: plane);
    }

    /// <summary>out: output (forward) or dOutput; image: input or dInput; w: weight or dWeight.</summary>
    private void RunConv(ConvPass pass, Conv2dGeometry g, float* output, float* image, float* w, float* bias)
    {
        if (pass == ConvPass.Forward && RunsDepthwise(g))
        {
            _depthwise.Forward(g, output, image, w, bias, _pool);
            return;
        }
        if (pass == ConvPass.BackwardWeight && RunsDepthwise(g))
        {
            // Output gradient, input, weight gradient (see the parameter note above).
            _depthwise.BackwardWeight(g, w, output, image, _pool);
            return;
        }
        if (pass is ConvPass.BackwardInput or ConvPass.BackwardInputWrite && DepthwiseKernel && DepthwiseConv.AppliesBackwardInput(g))
        {
            _depthwise.BackwardInput(g, image, output, w, accumulate: pass == ConvPass.BackwardInput, _pool);
            return;
        }
        long work = (long)g.Batch * g.OutputChannels * g.OutputHeight * g.OutputWidth * g.InputChannelsPerGroup * g.KernelHeight * g.KernelWidth;
        // One chunk of images a thread, each with its own scratch. (Four a thread, so that a descheduled helper would
        // hold a quarter of its share, made the 2-thread training step 15–30 % slower, quiet and loaded: the extra
        // scratch and weight-gradient partials cost more than the finer split saved.)
        int chunks = _pool.Splits(work) && g.Batch > 1 ? Math.Min(Threads, g.Batch) : 1;
        EnsureScratch(chunks, g, pass == ConvPass.BackwardWeight);
        _convJob.Set(this, pass, g, output, image, w, bias, chunks);
        if (chunks == 1)
        {
            ConvImages(pass, g, 0, g.Batch, output, image, w, bias, _convScratch[0], _pool);
            return;
        }
        _pool.For(chunks, _convJob);
        if (pass == ConvPass.BackwardWeight)
        {
            // Reduce the per-chunk weight gradients in chunk order (deterministic for a given thread count).
            var dWeight = new Span<float>(w, g.WeightSize);
            for (int c = 0; c < chunks; c++) TensorPrimitives.Add(dWeight, _convScratch[c].PartialWeightGradient(dWeight.Length), dWeight);
        }
    }

    /// <summary>Images [first, end) of one pass, in blocks of about <see cref="BlockColumns"/> output columns.</summary>
    private static void ConvImages(ConvPass pass, in Conv2dGeometry g, int first, int end, float* output, float* image, float* w, float* bias, ConvScratch scratch, CpuThreadPool? pool)
    {
        if (DilatedPhases.Applies(g) && (pass != ConvPass.BackwardWeight || DilatedPhases.AppliesBackwardWeight(g)))
        {
            var phases = scratch.Phases;
            if (pass == ConvPass.Forward) phases.Forward(g, first, end, output, image, w, bias, scratch.Winograd, pool);
            else if (pass == ConvPass.BackwardWeight) phases.BackwardWeight(g, first, end, scratch.HasPartial ? scratch.PartialWeightPointer : w, output, image, scratch.Winograd, pool);
            else phases.BackwardInput(g, first, end, image, output, w, accumulate: pass == ConvPass.BackwardInput, scratch.Winograd, pool);
            return;
        }
        if (pass == ConvPass.BackwardInputWrite)
        {
            if (WinogradConv.AppliesBackwardInput(g))
            {
                scratch.Winograd.BackwardInput(g, first, end, image, output, w, pool, accumulate: false);
                return;
            }
            // The other paths add into dX (col2im): clear these images' planes first.
            long imageFloats = (long)g.InputChannels * g.InputHeight * g.InputWidth;
            new Span<float>(image + first * imageFloats, checked((int)((end - first) * imageFloats))).Clear();
            pass = ConvPass.BackwardInput;
        }
        if (pass == ConvPass.Forward && WinogradConv.Applies(g))
        {
            scratch.Winograd.Forward(g, first, end, output, image, w, bias, pool);
            return;
        }
        if (pass == ConvPass.BackwardInput && WinogradConv.AppliesBackwardInput(g))
        {
            scratch.Winograd.BackwardInput(g, first, end, image, output, w, pool);
            return;
        }
        if (pass == ConvPass.BackwardWeight && WinogradConv.AppliesBackwardWeight(g))
        {
            scratch.Winograd.BackwardWeight(g, first, end, scratch.HasPartial ? scratch.PartialWeightPointer : w, output, image, pool);
            return;
        }
        int block = Math.Max(1, (pass == ConvPass.BackwardWeight ? WeightBlockColumns : BlockColumns) / (g.OutputHeight * g.OutputWidth));
        for (int n = first; n < end; n += block)
        {
            int images = Math.Min(block, end - n);
            for (int group = 0; group < g.Groups; group++)
            {
                bool dots = pass == ConvPass.BackwardWeight && g.InputChannelsPerGroup * g.KernelHeight * g.KernelWidth <= FewPatchRows;
                if (images == 1 && !dots) ConvImage(pass, g, n, group, output, image, w, bias, scratch, pool);
                else ConvBlock(pass, g, n, images, group, output, image, w, bias, scratch, pool);
            }
        }
    }

    /// <summary>One image and group: its GEMMs read and write the tensors in place.</summary>
    private static void ConvImage(ConvPass pass, in Conv2dGeometry g, int n, int group, float* output, float* image, float* w, float* bias, ConvScratch scratch, CpuThreadPool? pool)
    {
        int cg = g.InputChannelsPerGroup, kg = g.OutputChannelsPerGroup, ohw = g.OutputHeight * g.OutputWidth, hw = g.InputHeight * g.InputWidth;
        int crs = cg * g.KernelHeight * g.KernelWidth;
        bool identity = Im2Col.IsIdentity(g);
        float* x = image + ((long)n * g.InputChannels + group * cg) * hw;
        float* y = output + ((long)n * g.OutputChannels + group * kg) * ohw;
        float* wg = w + (long)group * kg * crs;
        switch (pass)
        {
            case ConvPass.Forward:
            {
                float beta = bias != null ? 1f : 0f;
                if (bias != null)
                    for (int k = 0; k < kg; k++) new Span<float>(y + (long)k * ohw, ohw).Fill(bias[group * kg + k]);
                if (identity) scratch.Gemm.Multiply(y, ohw, wg, crs, x, ohw, kg, ohw, crs, false, false, 1f, beta, scratch.Workspace, pool);
                else scratch.Gemm.MultiplyIm2Col(y, ohw, wg, crs, false, kg, x, g, cg, 0, 1, 1f, beta, scratch.Workspace, pool);
                break;
            }
            case ConvPass.BackwardInput:
                if (identity) scratch.Gemm.Multiply(x, ohw, wg, crs, y, ohw, crs, ohw, kg, true, false, 1f, 1f, scratch.Workspace, pool);
                else
                {
                    float* col = scratch.Col((long)crs * ohw);
                    scratch.Gemm.Multiply(col, ohw, wg, crs, y, ohw, crs, ohw, kg, true, false, 1f, 0f, scratch.Workspace, pool);
                    scratch.Patches.Run(scatter: true, col, x, cg, g, pool);
                }
                break;
            default:
            {
                float* patches = identity ? x : scratch.Col((long)crs * ohw);
                if (!identity) scratch.Patches.Run(scatter: false, patches, x, cg, g, pool);
                float* dw = scratch.HasPartial ? scratch.PartialWeightPointer + (long)group * kg * crs : wg;
                scratch.Gemm.Multiply(dw, crs, y, ohw, patches, ohw, kg, crs, ohw, false, true, 1f, 1f, scratch.Workspace, pool);
                break;
            }
        }
    }

    /// <summary>
    /// A block of images and one group as single GEMMs over images·OH·OW columns (small feature maps would give each
    /// image a GEMM too thin to run at speed):
    ///   forward          Yb[Kg, B·OHW]    = W_g · im2col(x block)        then scattered to NCHW with the bias
    ///   backward input   dcol[CgRS, B·OHW] = W_gᵀ · dYb[Kg, B·OHW]     dY block gathered side by side, then col2im image by image
    ///   backward weight  dW_g += dYb[Kg, B·OHW] · colᵀ                   dY block and col gathered side by side
    /// </summary>
    private static void ConvBlock(ConvPass pass, in Conv2dGeometry g, int n, int images, int group, float* output, float* image, float* w, float* bias, ConvScratch scratch, CpuThreadPool? pool)
    {
        int cg = g.InputChannelsPerGroup, kg = g.OutputChannelsPerGroup, ohw = g.OutputHeight * g.OutputWidth, hw = g.InputHeight * g.InputWidth;
        int crs = cg * g.KernelHeight * g.KernelWidth, columns = images * ohw;
        long imageStride = (long)g.InputChannels * hw, outputStride = (long)g.OutputChannels * ohw;
        float* x = image + ((long)n * g.InputChannels + group * cg) * hw;
        float* y = output + ((long)n * g.OutputChannels + group * kg) * ohw;
        float* wg = w + (long)group * kg * crs;
        switch (pass)
        {
            case ConvPass.Forward:
            {
                float* yb = scratch.Col((long)kg * columns);
                scratch.Gemm.MultiplyIm2Col(yb, columns, wg, crs, false, kg, x, g, cg, imageStride, images, 1f, 0f, scratch.Workspace, pool);
                for (int i = 0; i < images; i++)
                for (int k = 0; k < kg; k++)
                {
                    var src = new ReadOnlySpan<float>(yb + (long)k * columns + i * ohw, ohw);
                    var dst = new Span<float>(y + i * outputStride + (long)k * ohw, ohw);
                    if (bias != null) TensorPrimitives.Add(src, bias[group * kg + k], dst);
                    else src.CopyTo(dst);
                }
                break;
            }
            case ConvPass.BackwardInput:
            {
                float* dcol = scratch.Col((long)crs * columns);
                float* dyb = scratch.Rows((long)kg * columns);
                GatherRows(dyb, y, images, kg, ohw, outputStride);
                scratch.Gemm.Multiply(dcol, columns, wg, crs, dyb, columns, crs, columns, kg, true, false, 1f, 0f, scratch.Workspace, pool);
                for (int i = 0; i < images; i++) Im2Col.ScatterAdd(x + i * imageStride, dcol + i * ohw, cg, g, columns);
                break;
            }
            default:
            {
                float* col = scratch.Col((long)crs * columns);
                for (int i = 0; i < images; i++) Im2Col.Gather(col + i * ohw, x + i * imageStride, cg, g, columns);
                // One image's dY planes already are the [Kg, OHW] matrix.
                float* dyb = images == 1 ? y : scratch.Rows((long)kg * columns);
                if (images > 1) GatherRows(dyb, y, images, kg, ohw, outputStride);
                float* dw = scratch.HasPartial ? scratch.PartialWeightPointer + (long)group * kg * crs : wg;
                if (crs <= FewPatchRows)
                {
                    // dW[k, q] += Σ_j dYb[k, j]·col[q, j]: a handful of long dot products (a GEMM with N = CgRS this
                    // small would spend most of its tile on padding).
                    RowDots.Accumulate(dw, dyb, kg, col, crs, columns);
                }
                else scratch.Gemm.Multiply(dw, crs, dyb, columns, col, columns, kg, crs, columns, false, true, 1f, 1f, scratch.Workspace, pool);
                break;
            }
        }
    }

    /// <summary>The block's dY planes side by side: rows[k, i·OHW + j] = dY[image i, channel k, j] (a plain matrix the GEMM packs in long runs).</summary>
    private static void GatherRows(float* rows, float* dy, int images, int channels, int ohw, long outputStride)
    {
        int columns = images * ohw;
        for (int i = 0; i < images; i++)
        for (int k = 0; k < channels; k++)
            new ReadOnlySpan<float>(dy + i * outputStride + (long)k * ohw, ohw).CopyTo(new Span<float>(rows + (long)k * columns + i * ohw, ohw));
    }

    private void EnsureScratch(int chunks, in Conv2dGeometry g, bool partialWeights)
    {
        if (_convScratch.Length < chunks)
        {
            var grown = new ConvScratch[chunks];
            for (int i = 0; i < chunks; i++) grown[i] = i < _convScratch.Length ? _convScratch[i] : new ConvScratch(MicroKernel);
            _convScratch = grown;
        }
        for (int i = 0; i < chunks; i++) _convScratch[i].PreparePartial(chunks > 1 && partialWeights ? g.WeightSize : 0);
    }

    /// <summary>Per-chunk scratch: its own GEMM (job objects), packing workspace, patch matrix and partial dW.</summary>
    private sealed class ConvScratch(MicroKernelChoice microKernel)
    {
        private float[] _col = [];
        private float[] _rows = [];
        private float[] _partial = [];
        private int _partialLength;
        private WinogradConv? _winograd;
        private Winograd4x4? _winograd4;
        private DilatedPhases? _phases;

        public IPackedGemm Gemm { get; } = PackedGemm.Create(microKernel);
        public Im2ColJob Patches { get; } = new();
        public GemmWorkspace Workspace { get; } = new();
        public WinogradConv Winograd => _winograd ??= new WinogradConv(microKernel);
        public Winograd4x4 Winograd4 => _winograd4 ??= new Winograd4x4();
        public DilatedPhases Phases => _phases ??= new DilatedPhases();
        public bool HasPartial => _partialLength > 0;
        public float* PartialWeightPointer => Pointer(_partial);

        /// <summary>The patch matrix (or a block's output) scratch.</summary>
        public float* Col(long length) => Ensure(ref _col, length);

        /// <summary>A block's dY rows gathered side by side.</summary>
        public float* Rows(long length) => Ensure(ref _rows, length);

        private static float* Ensure(ref float[] buffer, long length)
        {
            if (buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
            return Pointer(buffer);
        }

        public void PreparePartial(int length)
        {
            _partialLength = length;
            if (length == 0) return;
            if (_partial.Length < length) _partial = GC.AllocateArray<float>(length, pinned: true);
            else Array.Clear(_partial, 0, length);
        }

        public ReadOnlySpan<float> PartialWeightGradient(int length) => _partial.AsSpan(0, length);

        private static float* Pointer(float[] array) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
    }

    /// <summary>im2col or col2im of one image split by input channels (each channel owns its rows of col and its plane).</summary>
    private sealed class Im2ColJob : IParallelBody
    {
        private bool _scatter;
        private float* _col, _image;
        private int _channels, _tasks;
        private Conv2dGeometry _g;

        public void Run(bool scatter, float* col, float* image, int channels, in Conv2dGeometry g, CpuThreadPool? pool)
        {
            _scatter = scatter;
            _col = col;
            _image = image;
            (_channels, _g) = (channels, g);
            long elements = (long)channels * g.KernelHeight * g.KernelWidth * g.OutputHeight * g.OutputWidth;
            _tasks = pool is null ? 1 : pool.TasksFor(elements * CpuThreadPool.ElementWork, channels);
            if (_tasks == 1) Execute(0);
            else pool!.For(_tasks, this);
        }

        public void Execute(int task)
        {
            int c0 = (int)((long)_channels * task / _tasks), c1 = (int)((long)_channels * (task + 1) / _tasks);
            long rows = (long)_g.KernelHeight * _g.KernelWidth * _g.OutputHeight * _g.OutputWidth, plane = (long)_g.InputHeight * _g.InputWidth;
            if (_scatter) Im2Col.ScatterAdd(_image + c0 * plane, _col + c0 * rows, c1 - c0, _g);
            else Im2Col.Gather(_col + c0 * rows, _image + c0 * plane, c1 - c0, _g);
        }
    }

    /// <summary>Images [chunk·B/chunks, (chunk+1)·B/chunks) of one pass, on one thread with that chunk's scratch.</summary>
    private sealed class ConvJob : IParallelBody
    {
        private SimdKernels _owner = null!;
        private ConvPass _pass;
        private Conv2dGeometry _g;
        private float* _output, _image, _w, _bias;
        private int _chunks;

        public void Set(SimdKernels owner, ConvPass pass, Conv2dGeometry g, float* output, float* image, float* w, float* bias, int chunks)
        {
            _owner = owner;
            _pass = pass;
            _g = g;
            _output = output;
            _image = image;
            _w = w;
            _bias = bias;
            _chunks = chunks;
        }

        public void Execute(int chunk)
        {
            int first = (int)((long)_g.Batch * chunk / _chunks), end = (int)((long)_g.Batch * (chunk + 1) / _chunks);
            var scratch = _owner._convScratch[chunk];
            ConvImages(_pass, _g, first, end, _output, _image, _w, _bias, scratch, null);
        }
    }

}
