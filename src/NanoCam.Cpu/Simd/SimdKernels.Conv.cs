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
    // A batch of at least two images is split across threads image by image (each chunk with its own GEMM and
    // scratch, weight gradients reduced in chunk order); a single image uses the threaded GEMM instead.

    private enum ConvPass { Forward, BackwardInput, BackwardWeight }

    private readonly ConvJob _convJob = new();
    private ConvScratch[] _convScratch = [];

    public void Conv2dForward(Tensor output, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g)
    {
        Check.Conv(g, output, input, weight);
        fixed (float* y = output.Data, x = input.Data, w = weight.Data, b = bias is null ? null : bias.Data)
            RunConv(ConvPass.Forward, g, y, x, w, bias is null ? null : b);
    }

    public void Conv2dBackwardInput(Tensor dInput, Tensor dOutput, Tensor weight, Conv2dGeometry g)
    {
        Check.Conv(g, dOutput, dInput, weight);
        fixed (float* dy = dOutput.Data, dx = dInput.Data, w = weight.Data)
            RunConv(ConvPass.BackwardInput, g, dy, dx, w, null);
    }

    public void Conv2dBackwardWeight(Tensor dWeight, Tensor dOutput, Tensor input, Conv2dGeometry g)
    {
        Check.Conv(g, dOutput, input, dWeight);
        fixed (float* dy = dOutput.Data, x = input.Data, dw = dWeight.Data)
            RunConv(ConvPass.BackwardWeight, g, dy, x, dw, null);
    }

    public void Conv2dBackwardBias(Tensor dBias, Tensor dOutput)
    {
        var db = dBias.Span;
        var dy = dOutput.Span;
        int n = dOutput.Shape[0], k = dOutput.Shape[1], plane = dOutput.Shape.Product(2, dOutput.Shape.Rank);
        for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++)
            db[j] += TensorPrimitives.Sum(dy.Slice((i * k + j) * plane, plane));
    }

    /// <summary>out: output (forward) or dOutput; image: input or dInput; w: weight or dWeight.</summary>
    private void RunConv(ConvPass pass, Conv2dGeometry g, float* output, float* image, float* w, float* bias)
    {
        int chunks = Threads > 1 && g.Batch > 1 ? Math.Min(Threads, g.Batch) : 1;
        EnsureScratch(chunks, g, pass == ConvPass.BackwardWeight);
        _convJob.Set(this, pass, g, output, image, w, bias, chunks);
        if (chunks == 1)
        {
            for (int n = 0; n < g.Batch; n++) ConvImage(pass, g, n, output, image, w, bias, _convScratch[0], _pool);
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

    private static void ConvImage(ConvPass pass, in Conv2dGeometry g, int n, float* output, float* image, float* w, float* bias, ConvScratch scratch, CpuThreadPool? pool)
    {
        int cg = g.InputChannelsPerGroup, kg = g.OutputChannelsPerGroup, ohw = g.OutputHeight * g.OutputWidth, hw = g.InputHeight * g.InputWidth;
        int crs = cg * g.KernelHeight * g.KernelWidth;
        bool identity = Im2Col.IsIdentity(g);
        float* col = identity || pass == ConvPass.Forward ? null : scratch.Col((long)crs * ohw);
        for (int group = 0; group < g.Groups; group++)
        {
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
                    else scratch.Gemm.MultiplyIm2Col(y, ohw, wg, crs, kg, x, g, cg, 1f, beta, scratch.Workspace, pool);
                    break;
                }
                case ConvPass.BackwardInput:
                    if (identity) scratch.Gemm.Multiply(x, ohw, wg, crs, y, ohw, crs, ohw, kg, true, false, 1f, 1f, scratch.Workspace, pool);
                    else
                    {
                        scratch.Gemm.Multiply(col, ohw, wg, crs, y, ohw, crs, ohw, kg, true, false, 1f, 0f, scratch.Workspace, pool);
                        Im2Col.ScatterAdd(x, col, cg, g);
                    }
                    break;
                default:
                {
                    float* patches = identity ? x : col;
                    if (!identity) Im2Col.Gather(col, x, cg, g);
                    float* dw = scratch.HasPartial ? scratch.PartialWeightPointer + (long)group * kg * crs : wg;
                    scratch.Gemm.Multiply(dw, crs, y, ohw, patches, ohw, kg, crs, ohw, false, true, 1f, 1f, scratch.Workspace, pool);
                    break;
                }
            }
        }
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
        private float[] _partial = [];
        private int _partialLength;

        public IPackedGemm Gemm { get; } = PackedGemm.Create(microKernel);
        public GemmWorkspace Workspace { get; } = new();
        public bool HasPartial => _partialLength > 0;
        public float* PartialWeightPointer => Pointer(_partial);

        public float* Col(long length)
        {
            if (_col.Length < length) _col = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
            return Pointer(_col);
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
            for (int n = first; n < end; n++) ConvImage(_pass, _g, n, _output, _image, _w, _bias, scratch, null);
        }
    }

}
