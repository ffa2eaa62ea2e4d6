// An ASP.NET Core minimal API that explains uploaded images: NanoCam as a library, from its NuGet packages.
//   NANOCAM_MODEL=model.onnx dotnet run -- --urls http://127.0.0.1:5080
//   curl --data-binary @cat.png 'http://127.0.0.1:5080/explain?method=gradcam' -o overlay.png
using NanoCam.Explain;
using NanoCam.Imaging;

var builder = WebApplication.CreateBuilder(args);
string model = builder.Configuration["NANOCAM_MODEL"] ?? throw new InvalidOperationException("set NANOCAM_MODEL to an .onnx file or a NanoCam checkpoint");
// One explainer for the process: it is thread-safe, and loading reads the model once.
builder.Services.AddSingleton(_ => Explainer.Load(model));
var app = builder.Build();

app.MapGet("/", (Explainer explainer) => Results.Ok(new { classes = explainer.Model.Classes, methods = Method.Names }));

// The body is the encoded image; the reply is the overlay as PNG, with the class in a header.
app.MapPost("/explain", async (HttpContext context, Explainer explainer, string? method, int? @class) =>
{
    using var body = new MemoryStream();
    await context.Request.Body.CopyToAsync(body);
    try
    {
        var image = ImageCodec.Decode(body.ToArray(), "upload");
        var target = @class is { } k ? CamTarget.Class(k) : CamTarget.TopPrediction();
        var explanation = explainer.Explain(image, Method.Named(method ?? "gradcam"), target);
        var overlay = explanation.Overlay(explainer.Prepare(image).Shown);
        context.Response.Headers["X-Class"] = explanation.TargetClass.ToString();
        if (explanation.ClassName is { } name) context.Response.Headers["X-Class-Name"] = Uri.EscapeDataString(name);
        return Results.File(ImageCodec.EncodePng(overlay), "image/png");
    }
    catch (Exception e) when (e is ArgumentException or InvalidDataException)
    {
        return Results.BadRequest(new { error = e.Message });
    }
});

app.Run();
