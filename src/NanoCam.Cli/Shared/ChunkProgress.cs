using System.Diagnostics;
using Spectre.Console;

namespace NanoCam.Cli.Shared;

/// <summary>
/// Progress of a run over chunks: on a terminal a Spectre.Console bar with images per second and the time left; when the
/// output is a file or a pipe (a batch job's log), one plain line per chunk.
/// </summary>
public static class ChunkProgress
{
    /// <summary>
    /// Runs <paramref name="work"/>, which reports each finished chunk (its number and images); <paramref name="images"/>
    /// is what is left to do, <paramref name="scope"/> names it in the lines ("shard 1/4").
    /// </summary>
    public static void Run(int images, string scope, Action<Action<int, int>> work)
    {
        var clock = Stopwatch.StartNew();
        int done = 0;
        string Rate() => $"{done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F1} images/s";
        if (!Console.IsOutputRedirected)
        {
            AnsiConsole.Progress().AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask($"{Markup.Escape(scope)}: starting", maxValue: Math.Max(images, 1));
                    work((chunk, count) =>
                    {
                        done += count;
                        task.Increment(count);
                        task.Description = Markup.Escape($"{scope}: {done}/{images} images, {Rate()}");
                    });
                    task.Value = task.MaxValue;
                });
            return;
        }
        work((chunk, count) =>
        {
            done += count;
            double perImage = clock.Elapsed.TotalSeconds / Math.Max(done, 1);
            var eta = TimeSpan.FromSeconds(Math.Round(perImage * (images - done)));
            Console.WriteLine($"chunk {chunk}: {count} images; {scope}: {done}/{images} images, {Rate()}, ETA {eta:hh\\:mm\\:ss}");
        });
    }
}
