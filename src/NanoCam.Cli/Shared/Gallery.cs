using System.Text;
using System.Text.Json;
using NanoCam.Data;
using NanoCam.Imaging;

namespace NanoCam.Cli.Shared;

/// <summary>
/// <c>RESULTS_DIR/index.html</c>: a self-contained page over a complete results table, one card per row (input thumbnail,
/// overlay, class, score, metrics), sortable by score, probability or any metric column, 50 cards a page; and the
/// thumbnails it shows under <c>thumbs/</c> (input/INDEX.png per image, METHOD/chunk-K-ROW.png per map), at most 96 px.
/// </summary>
public static class Gallery
{
    public const string Page = "index.html", Thumbs = "thumbs";

    /// <summary>The longest side of a thumbnail, in pixels; smaller images are not enlarged.</summary>
    public const int ThumbnailSize = 96;

    private static readonly string[] MetricColumns = ["deletion_auc", "insertion_auc", "drop_percent", "increase", "pointing_hit", "localization_hit"];

    /// <summary>The input thumbnail of a row's image, relative to the results folder.</summary>
    public static string InputThumbnail(ResultRow row) => $"{Thumbs}/input/{row.Index}.png";

    /// <summary>The overlay thumbnail of a row's map (maps/METHOD/chunk-K.npy row R → thumbs/METHOD/chunk-K-R.png).</summary>
    public static string OverlayThumbnail(ResultRow row) =>
        $"{Thumbs}/{row.MapFile["maps/".Length..^".npy".Length]}-{row.MapIndex}.png";

    /// <summary>
    /// Writes the thumbnails of <paramref name="rows"/> and index.html into <paramref name="folder"/>. The input images are
    /// read again from the data the run recorded; when they cannot be (a relative folder seen from elsewhere), the overlays
    /// show the maps alone and the page has no input thumbnails (an image that alone cannot be read: its overlays show its
    /// maps alone, and its input thumbnail is missing). Returns a note on that, or null.
    /// </summary>
    public static string? Write(ResultsFolder folder, RunSettings settings, IReadOnlyList<ResultRow> rows, bool metrics)
    {
        Func<ResultRow, RgbImage>? picture;
        string? note = null;
        try { picture = Pictures(settings.Data, settings.Split); }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
        {
            (picture, note) = (null, $"gallery: the images of '{settings.Data}' cannot be read here ({e.Message}); the thumbnails show the maps alone");
        }
        var jet = ColorMaps.Get("jet");
        var unreadable = new System.Collections.Concurrent.ConcurrentDictionary<long, bool>();
        // A chunk at a time, chunks in parallel (a data set's images may be read on any thread, as the loader reads them):
        // a chunk's maps read once, each of its images shrunk once for its input thumbnail and every overlay over it.
        var chunks = rows.GroupBy(r => Path.GetFileName(r.MapFile)).ToArray();
        Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, chunk =>
        {
            var thumbnails = new Dictionary<long, RgbImage?>();
            var maps = new Dictionary<string, (float[] Values, int Height, int Width)>();
            foreach (var row in chunk)
            {
                if (!maps.TryGetValue(row.MapFile, out var shard))
                {
                    var (values, shape) = Npy.Decode(File.ReadAllBytes(folder.PathOf(row.MapFile)), row.MapFile);
                    maps[row.MapFile] = shard = (values, shape[1], shape[2]);
                }
                if (!thumbnails.TryGetValue(row.Index, out var thumbnail))
                {
                    thumbnail = null;
                    if (picture is not null)
                        try { thumbnail = Shrink(picture(row)); }
                        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
                        {
                            unreadable[row.Index] = true;
                            Interlocked.CompareExchange(ref note, $"gallery: {row.File} cannot be read here ({e.Message}); its thumbnails show the maps alone", null);
                        }
                    if (thumbnail is not null) folder.WriteAtomically(InputThumbnail(row), ImageCodec.EncodePng(thumbnail));
                    thumbnails[row.Index] = thumbnail;
                }
                int plane = shard.Height * shard.Width;
                var map = shard.Values.AsSpan(row.MapIndex * plane, plane).ToArray();
                var overlay = thumbnail is null
                    ? Shrink(Overlay.Colorize(map, shard.Width, shard.Height, jet))
                    : Overlay.Blend(thumbnail, map, shard.Width, shard.Height, jet);
                folder.WriteAtomically(OverlayThumbnail(row), ImageCodec.EncodePng(overlay));
            }
        });
        folder.WriteAtomically(Page, Encoding.UTF8.GetBytes(Html(rows, metrics, $"{settings.Model} on {settings.Data} ({settings.Split}): {settings.Methods}",
            picture is null ? _ => false : row => !unreadable.ContainsKey(row.Index))));
        return note;
    }

    /// <summary>The page over <paramref name="rows"/>: the rows as one JSON array in the page, and the script that shows one page of them.</summary>
    /// <remarks><paramref name="hasThumbnail"/> says whether a row's image has an input thumbnail (default: every one).</remarks>
    public static string Html(IReadOnlyList<ResultRow> rows, bool metrics, string title, Func<ResultRow, bool>? hasThumbnail = null)
    {
        var sortColumns = new List<string> { "score", "probability" };
        if (metrics) sortColumns.AddRange(MetricColumns);
        var html = new StringBuilder(256 * rows.Count + 8192);
        html.Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<link rel=\"icon\" href=\"data:,\">\n<title>")
            .Append(HtmlPage.Escape(title)).Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n<h1>")
            .Append(HtmlPage.Escape(title)).Append("</h1>\n<nav>\n<label>sort by <select id=\"sort\"><option value=\"table\">table order</option>");
        foreach (var column in sortColumns) html.Append($"<option value=\"{column}\">{column.Replace('_', ' ')}</option>");
        html.Append("</select></label>\n<label><select id=\"order\"><option value=\"desc\">descending</option><option value=\"asc\">ascending</option></select></label>\n")
            .Append("<button id=\"prev\" type=\"button\">previous</button> <span id=\"page\"></span> <button id=\"next\" type=\"button\">next</button> <span id=\"total\"></span>\n</nav>\n")
            .Append("<main id=\"grid\"></main>\n<script type=\"application/json\" id=\"rows\">");
        html.Append(RowsJson(rows, metrics, hasThumbnail ?? (_ => true)));
        html.Append("</script>\n<script>").Append(Script).Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    // The default encoder escapes <, > and &, so the JSON cannot close its <script> element.
    private static string RowsJson(IReadOnlyList<ResultRow> rows, bool metrics, Func<ResultRow, bool> hasThumbnail)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartArray();
            foreach (var r in rows)
            {
                json.WriteStartObject();
                json.WriteString("file", r.File);
                json.WriteNumber("index", r.Index);
                json.WriteString("method", r.Method);
                json.WriteString("target", r.Target);
                json.WriteNumber("class", r.Class);
                json.WriteString("class_name", r.ClassName);
                if (r.Label is { } label) json.WriteNumber("label", label); else json.WriteNull("label");
                Number(json, "score", r.Score);
                Number(json, "probability", r.Probability);
                if (metrics)
                {
                    Number(json, "deletion_auc", r.DeletionAuc);
                    Number(json, "insertion_auc", r.InsertionAuc);
                    Number(json, "drop_percent", r.DropPercent);
                    Flag(json, "increase", r.Increase);
                    Flag(json, "pointing_hit", r.PointingHit);
                    Flag(json, "localization_hit", r.LocalizationHit);
                }
                json.WriteString("map_file", r.MapFile);
                json.WriteNumber("map_index", r.MapIndex);
                if (hasThumbnail(r)) json.WriteString("thumbnail", InputThumbnail(r)); else json.WriteNull("thumbnail");
                json.WriteString("overlay", OverlayThumbnail(r));
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v)) json.WriteNumber(name, v); else json.WriteNull(name);
    }

    private static void Number(Utf8JsonWriter json, string name, float value)
    {
        if (float.IsFinite(value)) json.WriteNumber(name, value); else json.WriteNull(name);
    }

    private static void Flag(Utf8JsonWriter json, string name, bool? value)
    {
        if (value is { } b) json.WriteBoolean(name, b); else json.WriteNull(name);
    }

    /// <summary>The image of a row as the run read it, before the model's preprocessing: a file of the folder, or the data set's image at the row's index.</summary>
    private static Func<ResultRow, RgbImage> Pictures(string data, string split)
    {
        if (Directory.Exists(data)) return row => ImageCodec.Load(Path.Combine(data, row.File));
        var dataset = DataSpec.Parse(data, split);
        var whole = dataset is RangeDataset range ? range.Inner : dataset;
        return row =>
        {
            var chw = new float[whole.ImageSize];
            whole.GetImage(checked((int)row.Index), chw);
            return RgbImage.FromPlanar(chw, whole.Channels, whole.Height, whole.Width);
        };
    }

    private static RgbImage Shrink(RgbImage image)
    {
        int longest = Math.Max(image.Width, image.Height);
        if (longest <= ThumbnailSize) return image;
        return Resize.Bilinear(image, Math.Max(1, image.Width * ThumbnailSize / longest), Math.Max(1, image.Height * ThumbnailSize / longest));
    }

    private const string Style = """
        body{font:14px system-ui,sans-serif;margin:16px;background:#f6f6f6;color:#222}
        h1{font-size:18px;margin:0 0 8px}
        nav{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin-bottom:10px}
        #grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:8px}
        .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px;font-size:12px}
        .pics{display:flex;gap:4px}
        .pics img{width:96px;height:96px;object-fit:contain;image-rendering:pixelated;background:#e8e8e8}
        dl{display:grid;grid-template-columns:auto 1fr;gap:0 6px;margin:4px 0 0}
        dt{color:#666}dd{margin:0;overflow-wrap:anywhere}
        """;

    // One page of cards in the DOM at a time (render replaces the grid's children); a sort builds one key array and sorts
    // an index array once. ?page-size=N changes the page size.
    private const string Script = """
        (() => {
          const rows = JSON.parse(document.getElementById('rows').textContent);
          const size = Math.max(1, parseInt(new URLSearchParams(location.search).get('page-size') || '50', 10) || 50);
          const $ = id => document.getElementById(id);
          const grid = $('grid'), sort = $('sort'), order = $('order'), prev = $('prev'), next = $('next');
          const metrics = ['deletion_auc', 'insertion_auc', 'drop_percent', 'increase', 'pointing_hit', 'localization_hit'];
          let indices = rows.map((_, i) => i), page = 0;
          const key = v => v === null || v === undefined ? NaN : v === true ? 1 : v === false ? 0 : v;
          const show = v => v === null || v === undefined ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v);
          function resort() {
            const column = sort.value, sign = order.value === 'asc' ? 1 : -1;
            indices = rows.map((_, i) => i);
            if (column !== 'table') {
              const keys = new Float64Array(rows.length);
              for (let i = 0; i < rows.length; i++) keys[i] = key(rows[i][column]);
              indices.sort((a, b) => {
                const x = keys[a], y = keys[b];
                if (x !== x) return y !== y ? a - b : 1;
                if (y !== y) return -1;
                return x === y ? a - b : sign * (x - y);
              });
            }
            page = 0;
            render();
          }
          function image(src, alt) {
            const img = document.createElement('img');
            img.loading = 'lazy'; img.width = 96; img.height = 96; img.alt = alt; img.src = src;
            return img;
          }
          function card(r, i) {
            const div = document.createElement('div');
            div.className = 'card'; div.dataset.row = i; div.dataset.score = r.score;
            const pics = document.createElement('div');
            pics.className = 'pics';
            if (r.thumbnail) pics.append(image(r.thumbnail, r.file));
            pics.append(image(r.overlay, r.method + ' of ' + r.file));
            const dl = document.createElement('dl');
            const fields = [['file', r.file], ['method', r.method], ['target', r.target],
              ['class', r.class_name === null ? r.class : r.class_name + ' (' + r.class + ')'], ['label', r.label],
              ['score', r.score], ['probability', r.probability]];
            for (const m of metrics) if (m in r) fields.push([m.replace('_', ' '), r[m]]);
            for (const [name, value] of fields) {
              const dt = document.createElement('dt'), dd = document.createElement('dd');
              dt.textContent = name; dd.textContent = show(value);
              dl.append(dt, dd);
            }
            div.append(pics, dl);
            return div;
          }
          function render() {
            const pages = Math.max(1, Math.ceil(indices.length / size));
            page = Math.min(Math.max(page, 0), pages - 1);
            const cards = [];
            for (let k = page * size; k < Math.min(indices.length, (page + 1) * size); k++) cards.push(card(rows[indices[k]], indices[k]));
            grid.replaceChildren(...cards);
            $('page').textContent = 'page ' + (page + 1) + ' of ' + pages;
            $('total').textContent = rows.length + ' rows';
            prev.disabled = page === 0; next.disabled = page === pages - 1;
          }
          sort.addEventListener('change', resort);
          order.addEventListener('change', resort);
          prev.addEventListener('click', () => { page--; render(); });
          next.addEventListener('click', () => { page++; render(); });
          render();
        })();
        """;
}
