using NanoCam.Imaging;
using NanoCam.Nn.Models;

namespace NanoCam.Explain;

/// <summary>Turns an image into the [1, C, H, W] tensor a NanoCam checkpoint expects (resize, gray or RGB, mean/std from its description).</summary>
public static class ImageInput
{
    public static (Tensor Input, RgbImage Resized) Load(string path, ModelMetadata m)
    {
        var image = ImageCodec.Load(path);
        var resized = image.Width == m.InputWidth && image.Height == m.InputHeight ? image : Resize.Bilinear(image, m.InputWidth, m.InputHeight);
        return (FromImage(resized, m), resized);
    }

    public static Tensor FromImage(RgbImage image, ModelMetadata m)
    {
        var rgb = new float[3 * image.Height * image.Width];
        image.ToPlanar(rgb);
        int plane = image.Height * image.Width;
        var input = Tensor.Zeros(1, m.InputChannels, m.InputHeight, m.InputWidth);
        var x = input.Span;
        for (int c = 0; c < m.InputChannels; c++)
        for (int i = 0; i < plane; i++)
        {
            // One channel: the luminance, as MNIST-style data is gray.
            float v = m.InputChannels == 1 ? Rgb.Luma(rgb[i], rgb[plane + i], rgb[2 * plane + i]) : rgb[c * plane + i];
            x[c * plane + i] = (v - m.Mean[c]) / m.Std[c];
        }
        return input;
    }

    /// <summary>Undoes the normalization of image n of a batch, for display.</summary>
    public static RgbImage ToDisplay(Tensor batch, int n, ModelMetadata m)
    {
        int c = batch.Shape[1], h = batch.Shape[2], w = batch.Shape[3], size = c * h * w;
        var chw = batch.Span.Slice(n * size, size).ToArray();
        for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < h * w; i++)
            chw[ch * h * w + i] = Math.Clamp(chw[ch * h * w + i] * m.Std[ch] + m.Mean[ch], 0f, 1f);
        return RgbImage.FromPlanar(chw, c, h, w);
    }
}
