using System.CommandLine;
using System.Diagnostics;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam explain-dataset</c>: every image of a data set or folder explained by one or more methods, in chunks of
/// batched passes, into a results folder (see <see cref="ResultsFolder"/>): maps as .npy shards per method and chunk, a
/// Parquet table with one row per (image, method, target). <c>--shard I/N</c> does one of N slices; <c>--resume</c> skips
/// the chunks a killed run finished.
/// </summary>
public static class ExplainDatasetCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var data = CliOptions.Required<string>("--data", $"images to explain: a data spec ({DataSpecForms}) or a folder of images (DIR/*.png, or DIR/CLASS/*.png for labelled images)");
        var split = CliOptions.Make("--split", "split of a data spec (train|test)", "test");
        var methods = CliOptions.Make("--methods", $"all, or a comma-separated list of: {string.Join(", ", MethodList.All)}", "gradcam");
        methods.Validators.Add(result => { if (MethodList.Problem(result.GetValueOrDefault<string>() ?? "", "--methods") is { } problem) result.AddError(problem); });
        var targets = CliOptions.Make("--targets", $"what to explain per image: {TargetSpec.ValidForms}", "predicted");
        var target = TargetOption.Make("the classes of --targets");
        var detectorLayout = TargetOption.MakeLayout();
        var layer = CliOptions.Make<string?>("--layer", "target layer (see `nanocam layers`; default: the last spatial layer)", null);
        var output = CliOptions.Path("--out", "results folder: run.json, maps/METHOD/chunk-K.npy, parts/, chunks/, results.parquet, index.html (a gallery) over thumbs/", PathRole.OutputFolder, required: true);
        var chunk = CliOptions.Make("--chunk", "images per chunk: one batched pass, one .npy per method, one table part, the unit of --resume", 64);
        var shard = CliOptions.Make("--shard", "I/N: do only the chunks k with k mod N = I (0 ≤ I < N), for job arrays; join the shards with `nanocam merge`", "0/1");
        var resume = CliOptions.Make("--resume", "skip the chunks a previous run of the same command into --out finished", false);
        var metrics = CliOptions.Make("--metrics", "add the metrics of evaluate-explanations per row: deletion / insertion AUC, confidence drop and increase, pointing game, localization", false);
        var steps = CliOptions.Make("--steps", "deletion / insertion steps with --metrics", 32);
        var csv = CliOptions.Make("--csv", "also write results.csv beside results.parquet (an unsharded run; shards: merge --csv)", false);
        var labels = CliOptions.Labels();
        var threads = CliOptions.Threads();
        var device = CliOptions.Device();
        var preprocessing = new PreprocessingOptions();
        var command = new Command("explain-dataset", "Explain every image of a data set or folder with one or more methods: maps as .npy shards, a Parquet table; shardable and resumable")
        {
            model, data, split, methods, targets, layer, output, chunk, shard, resume, metrics, steps, csv, labels, threads, device, target, detectorLayout,
        };
        preprocessing.AddTo(command);
        var relevance = new RelevanceOptions();
        relevance.AddTo(command);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            var names = EvaluateExplanationsCommand.ParseMethods(p.GetValue(methods)!);
            int chunkSize = OptionChecks.AtLeast(p.GetValue(chunk), 1, "--chunk"), stepCount = OptionChecks.AtLeast(p.GetValue(steps), 1, "--steps");
            var slice = ShardSpec.Parse(p.GetValue(shard)!);
            var kernels = Backends.Create(p.GetValue(device)!, p.GetValue(threads));
            string modelPath = p.GetValue(model)!;
            var loaded = LoadedModel.Open(modelPath, p.GetValue(labels), preprocessing, p);
            if (loaded.Explainable is ModuleExplainable module) module.Model.MoveTo(kernels);
            var explainable = loaded.Explainable;
            var targetSpec = TargetSpec.Parse(p.GetValue(targets)!, explainable.Classes, explainable.ClassNames);
            string dataSpec = p.GetValue(data)!;
            var images = DatasetImages.Open(dataSpec, p.GetValue(split)!, loaded, chunkSize);
            var explainer = new CamExplainer(explainable, kernels);
            CamTarget? fixedTarget = null;
            if (p.GetValue(target) is { } targetText)
            {
                if (p.GetResult(targets) is { Implicit: false }) throw new ArgumentException("--target and --targets name what to explain two ways: give one");
                fixedTarget = TargetOption.Parse(targetText, loaded, explainer,
                    Tensor.FromArray(images.Load(0, 1)[..images.ImageSize], 1, images.Channels, images.Height, images.Width), p.GetValue(detectorLayout)!);
                TargetOption.CheckMethods(names, fixedTarget);
                if (fixedTarget is { IsClassScore: false } && p.GetValue(metrics))
                    throw new ArgumentException($"--metrics: the metrics measure a class's score, and --target {fixedTarget} is not one");
            }
            string layerName = explainable.ResolveLayer(p.GetValue(layer) ?? explainable.DefaultLayer);
            // The layer checked on the first image before anything is written.
            if (names.Any(n => n != "guided-backprop"))
                explainer.Capture(Tensor.FromArray(images.Load(0, Math.Min(chunkSize, images.Count))[..images.ImageSize], 1, images.Channels, images.Height, images.Width),
                    layerName, CamTarget.TopPrediction(), withGradients: false);
            if (targetSpec.What == TargetSpec.Kind.True)
                for (int i = 0; i < images.Count; i++)
                {
                    int? label = images.LabelOf(i);
                    if (label is null) throw new ArgumentException("--targets true needs labels, and these images have none (a folder labels its images with one sub-folder per class)");
                    if (label >= explainable.Classes) throw new ArgumentException($"--targets true: {images.FileOf(i)} has label {label}, and the model has {explainable.Classes} classes");
                }
            var settings = new RunSettings(RunSettings.ExplainDataset, Path.GetFileName(modelPath), RunSettings.Hash(modelPath), loaded.Preprocessing?.Describe(),
                dataSpec, p.GetValue(split)!, images.Count, string.Join(",", names), fixedTarget?.ToString() ?? targetSpec.Text, layerName, chunkSize, p.GetValue(metrics), stepCount)
            { MethodOptions = relevance.Describe(p, names) };
            // Built before the folder is prepared: a method that does not apply is refused with nothing written.
            var chunkExplainer = new ChunkExplainer(explainer, names, targetSpec, layerName, settings.Metrics ? stepCount : null, fixedTarget,
                relevance.Apply(new InputAttributionSettings(), p, loaded, tensorInput: false), layerGiven: p.GetValue(layer) is not null);
            var folder = new ResultsFolder(p.GetValue(output)!);
            folder.Prepare(settings, p.GetValue(resume));

            var finished = p.GetValue(resume) ? folder.CompletedChunks() : [];
            var mine = slice.ChunksOf(settings.Chunks).ToArray();
            var todo = mine.Where(k => !finished.ContainsKey(k)).ToArray();
            int ImagesIn(int k) => Math.Min(chunkSize, images.Count - k * chunkSize);
            string scope = slice.Count == 1 ? "explain-dataset" : $"shard {slice}";
            Console.WriteLine($"{images.Description}: {string.Join(", ", names)} for {fixedTarget?.ToString() ?? targetSpec.Text} at layer '{layerName}', {settings.Chunks} chunks of {chunkSize}; "
                + $"{scope}: {mine.Length} chunks{(mine.Length > todo.Length ? $", {mine.Length - todo.Length} already finished (skipped)" : "")}");
            var clock = Stopwatch.StartNew();
            ChunkProgress.Run(todo.Sum(ImagesIn), scope, report =>
            {
                foreach (int k in todo)
                {
                    WriteChunk(folder, chunkExplainer, images, explainable.ClassNames, k, k * chunkSize, ImagesIn(k), settings.Metrics);
                    report(k, ImagesIn(k));
                }
            });
            int explained = todo.Sum(ImagesIn);
            Console.WriteLine($"{scope}: {explained} images in {clock.Elapsed.TotalSeconds:F1} s ({explained / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F1} images/s)");
            if (slice.Count > 1)
            {
                Console.WriteLine($"shard {slice} finished; when every shard has, join them: nanocam merge {folder.Root} … --out DIR");
                return 0;
            }
            var (rows, _) = ResultsFolder.Merge([folder.Root], folder.Root, p.GetValue(csv));
            Console.WriteLine($"{rows} rows written to {folder.PathOf(ResultsFolder.Table)}{(p.GetValue(csv) ? $", {ResultsFolder.CsvTable}" : "")} and the gallery {Gallery.Page}");
            return 0;
        }));
        return command;
    }

    private const string DataSpecForms = "shapes, shapes:COUNT, idx:DIR, cifar10:DIR, folder:DIR, each optionally #START-END, then @SIZE";

    /// <summary>Explains chunk k (images [first, first + count)) and writes its maps, its part of the table and, last, its manifest.</summary>
    private static void WriteChunk(ResultsFolder folder, ChunkExplainer explainer, DatasetImages images, IReadOnlyList<string>? classNames,
        int k, int first, int count, bool metrics)
    {
        var values = images.Load(first, count);
        var labels = Enumerable.Range(first, count).Select(images.LabelOf).ToArray();
        var boxes = Enumerable.Range(first, count).Select(images.BoxOf).ToArray();
        var result = explainer.Explain(values, count, images.Channels, images.Height, images.Width, labels, boxes);
        var files = new List<ManifestFile>();
        foreach (var (method, maps) in result.Maps)
            files.Add(folder.WriteAtomically(ResultsFolder.MapFile(method, k), Npy.Encode(maps, [maps.Length / (images.Height * images.Width), images.Height, images.Width])));
        int perImage = result.Rows.Count / Math.Max(count * result.Maps.Count, 1);
        var rows = result.Rows.Select(r => new ResultRow(images.FileOf(first + r.Image), images.IndexOf(first + r.Image), r.Method, explainer.TargetLabel(r.Target),
            r.Class, classNames is { } names && r.Class < names.Count ? names[r.Class] : null, labels[r.Image], r.Score, r.Probability,
            ResultsFolder.MapFile(r.Method, k), r.Image * perImage + r.Target)
        {
            DeletionAuc = r.Metrics?.DeletionAuc, InsertionAuc = r.Metrics?.InsertionAuc, DropPercent = r.Metrics?.DropPercent,
            Increase = r.Metrics?.Increase, PointingHit = r.Metrics?.PointingHit, LocalizationHit = r.Metrics?.LocalizationHit,
        }).ToArray();
        files.Add(folder.WriteAtomically(ResultsFolder.PartFile(k), ResultsTable.ToParquet(rows, metrics)));
        folder.WriteManifest(new ChunkManifest(k, first, count, rows.Length, files));
    }
}
