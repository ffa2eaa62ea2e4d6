using NanoCam.Cpu.Naive;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Nn.Checkpoints;
using NanoCam.Nn.Models;

namespace NanoCam.Tutorials;

/// <summary>The code of docs/walkthrough-tutorial.md: CAM and Grad-CAM of the shipped shapes network, step by step.</summary>
public static class WalkthroughTutorial
{
    public static TutorialFindings Run(string repositoryRoot, TextWriter log)
    {
        // 1. The shipped network: its description (.json) says which architecture and normalization,
        //    the .safetensors file holds the trained weights.
        string checkpoint = Path.Combine(repositoryRoot, "weights", "shapes-vgg.safetensors");
        var metadata = ModelMetadata.Load(ModelMetadata.PathFor(checkpoint));
        var network = Architectures.Create(metadata.Architecture, metadata.InputChannels, metadata.Classes.Length, metadata.Seed);
        Checkpoint.Load(network, checkpoint);

        // 2. A test image of the embedded shapes data (seed 2 is the test split), normalized as in training.
        var shapes = new ShapesDataset(count: 1, seed: 2);
        float[] pixels = shapes.GetImage(0);
        int plane = shapes.Height * shapes.Width;
        for (int c = 0; c < shapes.Channels; c++)
            for (int p = 0; p < plane; p++)
                pixels[c * plane + p] = (pixels[c * plane + p] - metadata.Mean[c]) / metadata.Std[c];
        var image = Tensor.FromArray(pixels, 1, shapes.Channels, shapes.Height, shapes.Width);
        log.WriteLine($"true class: {shapes.ClassNames[shapes.GetLabel(0)]}");

        // 3. One call computes every quantity of CAM for the top prediction.
        var explainer = new CamExplainer(new ModuleExplainable(network, metadata.Classes), NaiveKernels.Instance);
        var cam = CamWalkthrough.Run(explainer, image, "cam");
        log.WriteLine($"class c = {cam.Class} ({metadata.Classes[cam.Class]}), layer '{cam.Layer}': " +
                      $"K = {cam.Channels} maps of {cam.Height}×{cam.Width}, Z = {cam.Z}");

        // 4. The map by hand: M_c(i,j) = Σ_k w_k^c A^k(i,j), then ReLU. It matches the engine's map.
        float largestDifference = 0f;
        for (int p = 0; p < cam.Z; p++)
        {
            float sum = 0f;
            for (int k = 0; k < cam.Channels; k++) sum += cam.Weights[k] * cam.Activation(k)[p];
            largestDifference = MathF.Max(largestDifference, MathF.Abs(MathF.Max(sum, 0f) - cam.Map[p]));
        }
        log.WriteLine(largestDifference <= 1e-4f ? "the map computed by hand equals the engine's (to 1e-4)"
                                                 : $"the map computed by hand differs from the engine's by {largestDifference}");

        // 5. The score from the maps: y^c = Σ_k w_k^c F^k + b_c with F^k the average of A^k.
        var score = cam.Score!;
        log.WriteLine($"y^c = {score.WeightedSum:F4} + {score.Bias:F4} = {score.Recomputed:F4}; the network says {score.NetworkScore:F4}");

        // 6. Grad-CAM of the same class: on this GAP network α_k^c = w_k^c / Z, so CAM / Grad-CAM = Z.
        var gradCam = CamWalkthrough.Run(explainer, image, "gradcam", CamTarget.Class(cam.Class));
        double camOverGradCam = 1.0 / gradCam.Comparison!.MapRatio;
        log.WriteLine($"CAM / Grad-CAM = {camOverGradCam:F3} (Z = {cam.Z})");

        return new TutorialFindings(cam.Class, shapes.GetLabel(0), largestDifference, score.Recomputed, score.NetworkScore, camOverGradCam, cam.Z);
    }
}

/// <summary>What the tutorial found, for the test that runs it.</summary>
public sealed record TutorialFindings(int PredictedClass, int TrueClass, float HandMapDifference, float RecomputedScore,
    float NetworkScore, double CamOverGradCam, int Z);
