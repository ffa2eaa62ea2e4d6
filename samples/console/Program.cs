// Explains one image with Grad-CAM and writes the overlay: NanoCam as a library, from its NuGet packages.
//   dotnet run -- MODEL [IMAGE] [OUT.png]
// MODEL: an .onnx file (its MODEL.preprocess.json and labels.txt beside it are read) or a NanoCam checkpoint.
// Without IMAGE, a picture is drawn from the embedded shapes data set.
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Imaging;

if (args.Length is < 1 or > 3)
{
    Console.Error.WriteLine("usage: ExplainImage MODEL [IMAGE] [OUT.png]");
    return 2;
}
try
{
    using var explainer = Explainer.Load(args[0]);
    var image = args.Length > 1 ? ImageCodec.Load(args[1]) : ShapesPicture();
    var explanation = explainer.Explain(image, Method.GradCam);

    string output = args.Length > 2 ? args[2] : "explanation.png";
    ImageCodec.SavePng(explanation.Overlay(explainer.Prepare(image).Shown), output);
    var weights = ((CamResult)explanation.Intermediates).ChannelWeightsOf(0);
    Console.WriteLine($"{explanation.Method} for class {explanation.TargetClass} ({explanation.ClassName ?? "no labels"}) at layer {explanation.Layer}");
    Console.WriteLine($"{weights.Length} channel weights α_k^c, largest {weights.ToArray().Max():G4}; map {explanation.Width}×{explanation.Height} written to {output}");
    return 0;
}
catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

// Image 0 of the shapes test set: a shape on a textured background, 64×64.
static RgbImage ShapesPicture()
{
    var pixels = new float[3 * ShapesDataset.ImageSide * ShapesDataset.ImageSide];
    new ShapesDataset(1, seed: 1).GetImage(0, pixels);
    return RgbImage.FromPlanar(pixels, 3, ShapesDataset.ImageSide, ShapesDataset.ImageSide);
}
