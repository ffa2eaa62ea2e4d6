#:project ../../src/NanoCam.Data/NanoCam.Data.csproj
#:project ../../src/NanoCam.Imaging/NanoCam.Imaging.csproj
// Writes images [START, END) of a NanoCam data spec as PNG files DIR/INDEX.png (zero-padded), so that a per-image
// command (`nanocam explain --image`) and a folder run (`nanocam explain-dataset --data DIR`) see the same pixels.
//   dotnet run export-images.cs -- SPEC SPLIT DIR        e.g. shapes#0-1000 test /tmp/shapes-png
using NanoCam.Data;
using NanoCam.Imaging;

if (args.Length != 3) { Console.Error.WriteLine("usage: export-images.cs SPEC SPLIT DIR"); return 2; }
var data = DataSpec.Parse(args[0], args[1]);
Directory.CreateDirectory(args[2]);
var chw = new float[data.ImageSize];
for (int i = 0; i < data.Count; i++)
{
    data.GetImage(i, chw);
    ImageCodec.SavePng(RgbImage.FromPlanar(chw, data.Channels, data.Height, data.Width), Path.Combine(args[2], $"{i:D5}.png"));
}
Console.WriteLine($"{data.Count} images of {data.Description} written to {args[2]}");
return 0;
