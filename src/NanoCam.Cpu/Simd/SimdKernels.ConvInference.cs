using NanoCam.Cpu.Simd.Conv;
using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Simd;

public sealed unsafe partial class SimdKernels
{
    // Inference convolution (no-grad passes). Where the implicit GEMM runs (every geometry Winograd does not take), the
    // weight is packed once (PrepareConv2dWeight) and each call runs PrepackedGemm: no packing of A, the bias and the
    // epilogue's activation applied to each finished block of C while it is in cache, C written straight into the output's
    // channel slice (a concat buffer). Depthwise convolutions on small maps get their weights packed once too
    // (DepthwiseSmallMaps.PackWeights); other depthwise and Winograd geometries run the training forward into the slice
    // and an activation pass over it. Few input channels (a stem, C <= 4) run the direct StemConv instead.

    private IPrepackedGemm? _prepackedGemm;
    private readonly StemConv _stem = new();

    private IPrepackedGemm InferenceGemm => _prepackedGemm ??= Simd.Gemm.PrepackedGemm.Create(MicroKernel);

    public PreparedConvWeight? PrepareConv2dWeight(Tensor weight, Conv2dGeometry g)
    {
        if (weight.Size != g.WeightSize) throw new ArgumentException($"conv2d prepare: weight has shape {weight.Shape}, expected {g.WeightShape}");
        if (RunsDepthwise(g) && DepthwiseSmallMaps.Applies(g))
            fixed (float* w = weight.Data) return new DepthwiseConvWeight(g with { Batch = 1 }, DepthwiseSmallMaps.PackWeights(w, g));
        if (WinogradConv.Applies(g) || Winograd4x4.Applies(g) || RunsDepthwise(g) || StemConv.Applies(g)) return null;
        int kg = g.OutputChannelsPerGroup, crs = g.InputChannelsPerGroup * g.KernelHeight * g.KernelWidth;
        var groups = new PackedWeights[g.Groups];
        for (int group = 0; group < g.Groups; group++)
            groups[group] = PackedWeights.Pack(weight.Span.Slice(group * kg * crs, kg * crs), kg, crs, InferenceGemm.Mr);
        return new PackedConvWeight(g with { Batch = 1 }, groups);
    }

    public void Conv2dInference(Tensor output, int channelOffset, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g, ConvEpilogue epilogue, PreparedConvWeight? prepared)
    {
        var s = output.Shape;
        int channels = s.Rank == 4 ? s[1] : -1;
        bool fits = s.Rank == 4 && s[0] == g.Batch && s[2] == g.OutputHeight && s[3] == g.OutputWidth
            && channelOffset >= 0 && channelOffset + g.OutputChannels <= channels;
        if (!fits)
        {
            // A bad shape, which the composition reports.
            ComposedConvInference.Run(this, output, channelOffset, input, weight, bias, g, epilogue);
            return;
        }
        // Whether the batch's K output planes are one run of the output (one image, or a convolution that fills the
        // output); else each image writes its own channel slice, C planes apart.
        bool oneRun = g.Batch == 1 || channelOffset == 0 && channels == g.OutputChannels;
        if (input.Size != g.InputSize) throw new ArgumentException($"conv2d: input has shape {input.Shape}, expected {g.InputShape}");
        if (weight.Size != g.WeightSize) throw new ArgumentException($"conv2d: weight has shape {weight.Shape}, expected {g.WeightShape}");
        var packed = prepared as PackedConvWeight;
        var depthwise = prepared as DepthwiseConvWeight;
        if (prepared is not null && (packed is null || packed.Geometry != g with { Batch = 1 } || packed.Groups[0].Mr != InferenceGemm.Mr)
            && (depthwise is null || depthwise.Geometry != g with { Batch = 1 } || !RunsDepthwise(g)))
            throw new ArgumentException($"conv2d inference: the prepared weight was made for another geometry or backend than {g}");
        int ohw = g.OutputHeight * g.OutputWidth, hw = g.InputHeight * g.InputWidth, kg = g.OutputChannelsPerGroup, cg = g.InputChannelsPerGroup;
        fixed (float* y = output.Data, x = input.Data, w = weight.Data, b = bias is null ? null : bias.Data)
        {
            float* bb = bias is null ? null : b;
            float* slice0 = y + (long)channelOffset * ohw;
            if (StemConv.Applies(g))
            {
                _stem.Run(g, slice0, channels, x, w, bb, epilogue, _pool);
                return;
            }
            if (packed is null)
            {
                float* turned = depthwise is null ? null : depthwise.Weights.Pointer;
                if (oneRun)
                {
                    UnpackedInference(g, slice0, x, w, bb, epilogue, turned);
                    return;
                }
                var image = g with { Batch = 1 };
                for (int n = 0; n < g.Batch; n++)
                    UnpackedInference(image, slice0 + (long)n * channels * ohw, x + (long)n * g.InputChannels * hw, w, bb, epilogue, turned);
                return;
            }
            var geometry = g with { Batch = 1 };
            for (int n = 0; n < g.Batch; n++)
            for (int group = 0; group < g.Groups; group++)
            {
                float* yg = slice0 + ((long)n * channels + group * kg) * ohw;
                float* xg = x + ((long)n * g.InputChannels + group * cg) * hw;
                var tail = new GemmEpilogue(bb == null ? null : bb + group * kg, epilogue);
                if (Im2Col.IsIdentity(g)) InferenceGemm.Multiply(yg, ohw, packed.Groups[group], xg, ohw, ohw, tail, _pool);
                else InferenceGemm.MultiplyIm2Col(yg, ohw, packed.Groups[group], xg, geometry, tail, _pool);
            }
        }
    }

    /// <summary>A convolution with no prepared weight (depthwise, Winograd, or a weight that is not constant) into one run of planes, then its epilogue.</summary>
    /// <param name="depthwiseWeights">The weights packed for the small-map depthwise kernel, or null.</param>
    private void UnpackedInference(Conv2dGeometry g, float* y, float* x, float* w, float* bias, ConvEpilogue epilogue, float* depthwiseWeights = null)
    {
        if (RunsDepthwise(g) && _depthwise.TryForwardFused(g, y, x, w, bias, epilogue, _pool, depthwiseWeights)) return;
        var image = g with { Batch = 1 };
        if (Winograd4x4.Applies(image))
        {
            // F(4×4, 3×3), image by image whatever the batch, so an image's output has the same bits in any batch.
            // Gradient passes keep the F(2×2) path of the training forward (batch-invariant there too).
            EnsureScratch(1, image, false);
            long imageIn = (long)g.InputChannels * g.InputHeight * g.InputWidth, imageOut = (long)g.OutputChannels * g.OutputHeight * g.OutputWidth;
            for (int n = 0; n < g.Batch; n++) _convScratch[0].Winograd4.Forward(image, y + n * imageOut, x + n * imageIn, w, bias, _pool);
        }
        else RunConv(ConvPass.Forward, g, y, x, w, bias);
        int ohw = g.OutputHeight * g.OutputWidth;
        new GemmEpilogue(null, epilogue).Apply(y, ohw, g.Batch * g.OutputChannels, 0, ohw);
    }

    /// <summary>A small-map depthwise convolution's weights in the kernel's channel-blocked layout, for one geometry (batch aside).</summary>
    private sealed class DepthwiseConvWeight(Conv2dGeometry geometry, PackedDepthwiseWeights weights) : PreparedConvWeight
    {
        public Conv2dGeometry Geometry { get; } = geometry;
        public PackedDepthwiseWeights Weights { get; } = weights;
    }

    /// <summary>One packed weight matrix per channel group, for one geometry (batch aside) and one micro-kernel.</summary>
    private sealed class PackedConvWeight(Conv2dGeometry geometry, PackedWeights[] groups) : PreparedConvWeight
    {
        public Conv2dGeometry Geometry { get; } = geometry;
        public PackedWeights[] Groups { get; } = groups;
    }
}
