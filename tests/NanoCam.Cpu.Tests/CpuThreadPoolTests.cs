using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// <see cref="CpuThreadPool"/>: every index of every loop runs exactly once, whichever threads take it — also when the
/// caller finishes the loop before a helper has woken and takes that helper's permit back — and a failure on any thread,
/// the caller's included, surfaces once the helpers have stopped; a loop a helper held up sends the next ones to the
/// caller alone for a while.
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

    private sealed class Recording(int[] threadOf) : IParallelBody
    {
        public void Execute(int index) => threadOf[index] = Environment.CurrentManagedThreadId;
    }

    [Fact]
    public void ALoopBelowTheSerialWork_RunsOnTheCallingThreadAlone_InOrder()
    {
        using var pool = new CpuThreadPool(2);
        var threadOf = new int[64];
        pool.For(threadOf.Length, new Recording(threadOf), work: CpuThreadPool.DefaultSerialWork - 1);
        Assert.All(threadOf, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
        Assert.Equal(0, pool.SplitLoops);
        CpuThreadPool.For(null, threadOf.Length, new Recording(threadOf), work: long.MaxValue);
        Assert.Equal(0, pool.SplitLoops);

        pool.For(threadOf.Length, new Recording(threadOf), work: CpuThreadPool.DefaultSerialWork);
        Assert.Equal(1, pool.SplitLoops);
    }

    [Fact]
    public void TasksFor_IsOneBelowTheThreshold_AndSmallSharesAbove()
    {
        using var one = new CpuThreadPool(1);
        using var two = new CpuThreadPool(2);
        using var always = new CpuThreadPool(2, serialWork: 0);
        Assert.Equal(1, one.TasksFor(1L << 40, 1000));
        Assert.Equal(1, two.TasksFor(CpuThreadPool.DefaultSerialWork - 1, 1000));
        Assert.Equal(1, two.TasksFor(1L << 40, 1));
        // 1 M units: four indices of 256 K each; much more work: at most 8 indices a thread, no index a big fixed share.
        Assert.Equal(4, two.TasksFor(CpuThreadPool.DefaultSerialWork, 1000));
        Assert.Equal(16, two.TasksFor(1L << 40, 1000));
        Assert.Equal(3, two.TasksFor(1L << 40, 3));
        Assert.Equal(2, always.TasksFor(10, 1000));
    }

    /// <summary>The first index a helper takes keeps that helper away for a long time; every index costs a little.</summary>
    private sealed class SlowOnAHelper(int caller, int[] hits, int[] threadOf) : IParallelBody
    {
        private int _helperStarted;

        public void Execute(int index)
        {
            threadOf[index] = Environment.CurrentManagedThreadId;
            Thread.SpinWait(2_000);
            if (Environment.CurrentManagedThreadId != caller && Interlocked.Exchange(ref _helperStarted, 1) == 0) Thread.Sleep(400);
            Interlocked.Increment(ref hits[index]);
        }
    }

    [Fact]
    public void AHelperHeldUp_KeepsOnlyTheIndexItTook_TheCallerRunsTheRest()
    {
        using var pool = new CpuThreadPool(2);
        int caller = Environment.CurrentManagedThreadId;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var hits = new int[200];
            var threadOf = new int[hits.Length];
            pool.For(hits.Length, new SlowOnAHelper(caller, hits, threadOf));
            // Every index ran once, the held-up one included, before For returned.
            Assert.All(hits, h => Assert.Equal(1, h));
            int byHelper = threadOf.Count(id => id != caller);
            if (byHelper == 0) continue; // the helper came too late for any index: try again
            // The helper slept on its first index while the caller ran all the others.
            Assert.Equal(1, byHelper);
            return;
        }
        Assert.Fail("in 20 loops of 200 indices the helper never took one");
    }

    /// <summary>Records an index run after its loop returned: a late helper taking a closed loop's work.</summary>
    private sealed class Guarded(int[] hits) : IParallelBody
    {
        public volatile bool Closed;
        public int Late;

        public void Execute(int index)
        {
            if (Closed) Interlocked.Increment(ref Late);
            Thread.SpinWait(Random.Shared.Next(0, 200));
            Interlocked.Increment(ref hits[index]);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public async Task LoopsBackToBack_NeverRunAnIndexOfALoopThatReturned(int threads)
    {
        using var pool = new CpuThreadPool(threads);
        var task = Task.Run(() =>
        {
            var random = new Random(threads);
            for (int loop = 0; loop < 5_000; loop++)
            {
                var hits = new int[random.Next(2, 4 * threads)];
                var body = new Guarded(hits);
                pool.For(hits.Length, body);
                body.Closed = true;
                Assert.All(hits, h => Assert.Equal(1, h));
                // A helper still inside this loop's Execute would show up as Late in a later loop's check, or here.
                Thread.SpinWait(random.Next(0, 500));
                Assert.Equal(0, body.Late);
            }
        });
        await task.WaitAsync(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void AHelperHeldUp_SendsTheNextLoopsToTheCallerAlone_UntilTheBackOffEnds()
    {
        const int backOffMs = 1000;
        using var pool = new CpuThreadPool(2, minBackOffMicroseconds: backOffMs * 1000);
        int caller = Environment.CurrentManagedThreadId;
        for (int attempt = 0; attempt < 20 && pool.HeldUpLoops == 0; attempt++)
        {
            var threadOf = new int[200];
            pool.For(threadOf.Length, new SlowOnAHelper(caller, new int[threadOf.Length], threadOf));
            // A helper that came too late for any index held nothing up: no back-off.
            if (threadOf.All(id => id == caller)) Assert.Equal(0, pool.HeldUpLoops);
        }
        Assert.Equal(1, pool.HeldUpLoops);
        var started = System.Diagnostics.Stopwatch.StartNew();

        // The caller waited ~400 ms for the helper's index after ~1 ms of its own: the next loops run on the caller.
        Assert.True(pool.BackingOff);
        long split = pool.SplitLoops;
        var inline = new int[64];
        pool.For(inline.Length, new Recording(inline));
        Assert.True(started.ElapsedMilliseconds < backOffMs, "the test thread itself was held up past the back-off");
        Assert.All(inline, id => Assert.Equal(caller, id));
        Assert.Equal(split, pool.SplitLoops);
        // The decomposition into indices is the work's alone, back-off or not: kernels split the same way every call.
        Assert.True(pool.Splits(CpuThreadPool.DefaultSerialWork));

        // Once it has passed, loops are offered to the helper again.
        Thread.Sleep(backOffMs + 50);
        Assert.False(pool.BackingOff);
        var hits = new int[64];
        pool.For(hits.Length, new Counting(hits));
        Assert.All(hits, h => Assert.Equal(1, h));
        Assert.Equal(split + 1, pool.SplitLoops);
    }
}
