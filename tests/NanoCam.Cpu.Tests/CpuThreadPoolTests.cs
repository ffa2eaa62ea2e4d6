using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// <see cref="CpuThreadPool"/>: every index of every loop runs exactly once, whichever threads take it — also when the
/// caller finishes the loop before a helper has woken and takes that helper's permit back — and a failure on any thread,
/// the caller's included, surfaces once the helpers have stopped.
/// </summary>
public sealed class CpuThreadPoolTests
{
    private sealed class Counting(int[] hits) : IParallelBody
    {
        public void Execute(int index) => Interlocked.Increment(ref hits[index]);
    }

    private sealed class Failing : IParallelBody
    {
        public void Execute(int index)
        {
            if (index == 3) throw new InvalidOperationException("index 3");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(9)]
    public async Task ThousandsOfShortLoops_RunEveryIndexExactlyOnce(int threads)
    {
        using var pool = new CpuThreadPool(threads);
        var random = new Random(threads);
        var task = Task.Run(() =>
        {
            for (int loop = 0; loop < 20_000; loop++)
            {
                // Mostly loops shorter than the pool, so the caller often drains them before a helper wakes.
                int count = random.Next(1, 2 * threads + 2);
                var hits = new int[count];
                pool.For(count, new Counting(hits));
                Assert.All(hits, h => Assert.Equal(1, h));
            }
        });
        // A lost permit would leave the loops waiting forever: give up after two minutes.
        await task.WaitAsync(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void AFailingBody_Surfaces_AndThePoolRunsTheNextLoop()
    {
        using var pool = new CpuThreadPool(3);
        var error = Assert.Throws<AggregateException>(() => pool.For(8, new Failing()));
        Assert.Equal("index 3", error.InnerException!.Message);
        var hits = new int[50];
        pool.For(hits.Length, new Counting(hits));
        Assert.All(hits, h => Assert.Equal(1, h));
    }
}
