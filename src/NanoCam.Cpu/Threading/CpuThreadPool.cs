using System.Diagnostics;

namespace NanoCam.Cpu.Threading;

/// <summary>A body of parallel work: Execute(i) for every i in [0, count), in any order, on any thread.</summary>
public interface IParallelBody
{
    void Execute(int index);
}

/// <summary>
/// A fixed set of worker threads that run <see cref="IParallelBody"/> loops without allocating: the calling thread
/// works too, indices are handed out one at a time, and the call returns when every index is done.
/// With one thread, one index, or less work than <see cref="SerialWork"/> (given to the work-aware calls) it runs the
/// loop inline, in order.
/// Built to hold up when other processes share the cores: the caller waits only for indices a helper has actually
/// taken (a helper that wakes after the last index is handed out finds nothing and does not hold the loop), and after
/// a short spin it blocks rather than spin, so a helper that was descheduled mid-index gets the caller's core.
/// When a split loop still waits for a helper long after the caller's own share is done (the helper lost its core to
/// another process), the pool backs off: for a while every loop runs on the caller alone, as with one thread, then it
/// tries the helpers again (the indices stay the same, so the results do too); each failed try doubles the while (up to 32 times the first), a loop
/// the helpers keep up with ends it. So on a shared machine two threads are not slower than one.
/// Not re-entrant: one loop at a time per pool (a body must not call <see cref="For(int, IParallelBody)"/> on the same pool).
/// </summary>
public sealed class CpuThreadPool : IDisposable
{
    /// <summary>
    /// Work (multiply-adds, or <see cref="ElementWork"/> per element of a memory-bound pass) below which a loop runs on
    /// the calling thread alone: about 30 µs on one core, a few times what waking a helper costs on a quiet machine.
    /// </summary>
    public const long DefaultSerialWork = 1L << 20;

    /// <summary>Work units per element of a memory-bound pass (a copy, ReLU, pooling window): 64 Ki elements reach <see cref="DefaultSerialWork"/>.</summary>
    public const long ElementWork = 16;

    /// <summary>Work per index that <see cref="TasksFor"/> aims at, so a helper descheduled mid-index holds a short share.</summary>
    private const long TaskWork = 1L << 18;

    /// <summary>At most this many indices per thread from <see cref="TasksFor"/>.</summary>
    private const int MaxTasksPerThread = 8;

    /// <summary>How long an idle worker watches for the next loop before it blocks.</summary>
    private const int IdleSpinMicroseconds = 200;

    /// <summary>
    /// How long the caller, its own indices done, spins for the helpers' before it blocks: about one GEMM task, so on a
    /// quiet machine the last index is waited for without a wake-up; a helper descheduled for a time slice (milliseconds)
    /// gets the caller's core soon after.
    /// </summary>
    private const int JoinSpinMicroseconds = 100;

    /// <summary>
    /// A split loop counts as held up when the caller, its own indices done, waited longer than this beyond twice its
    /// own share's time: a helper that lost its core to another process (a time slice is milliseconds), not the spread
    /// of uneven indices on a quiet machine.
    /// </summary>
    private const int HeldUpMicroseconds = 250;

    /// <summary>The first back-off after a held-up loop (by default): loops run on the caller alone for this long.</summary>
    public const int DefaultMinBackOffMicroseconds = 2_000;

    /// <summary>The longest back-off, in first back-offs: reached by doubling after each held-up try.</summary>
    private const int MaxBackOffFactor = 32;

    private const long Closed = int.MaxValue;

    private static readonly long IdleSpinTicks = Stopwatch.Frequency * IdleSpinMicroseconds / 1_000_000;
    private static readonly long JoinSpinTicks = Stopwatch.Frequency * JoinSpinMicroseconds / 1_000_000;
    private static readonly long HeldUpTicks = Stopwatch.Frequency * HeldUpMicroseconds / 1_000_000;

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _start = new(0);
    private readonly ManualResetEventSlim _done = new(false, spinCount: 1);

    // The loop in progress: (generation << 32) | next index. An index is taken by compare-and-swap against the
    // generation read with the loop's body and count, so a helper that wakes late never takes an index of a later loop;
    // between loops the low half is Closed.
    private long _ticket = Closed;
    private IParallelBody? _body;
    private int _count;
    private int _completed;
    private long _splitLoops;
    private long _heldUpLoops;
    // Until this timestamp loops run on the caller alone; the next back-off's length.
    private long _backOffUntil;
    private long _backOffTicks;
    private readonly long _minBackOffTicks;
    private volatile bool _disposed;
    private volatile bool _failed;
    private Exception? _failure;

    /// <param name="threads">Threads that run a loop, the caller included.</param>
    /// <param name="serialWork">Work below which the work-aware calls run inline (tests pass 0 to split small loops too).</param>
    /// <param name="minBackOffMicroseconds">How long loops first run on the caller alone after a helper held one up.</param>
    public CpuThreadPool(int threads, long serialWork = DefaultSerialWork, int minBackOffMicroseconds = DefaultMinBackOffMicroseconds)
    {
        if (threads < 1) throw new ArgumentException($"threads must be at least 1, got {threads}");
        if (serialWork < 0) throw new ArgumentException($"serialWork must not be negative, got {serialWork}");
        if (minBackOffMicroseconds < 0) throw new ArgumentException($"minBackOffMicroseconds must not be negative, got {minBackOffMicroseconds}");
        _minBackOffTicks = _backOffTicks = Stopwatch.Frequency * minBackOffMicroseconds / 1_000_000;
        Threads = threads;
        SerialWork = serialWork;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"nanocam-cpu-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Number of threads that run a loop, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Work (multiply-adds, or <see cref="ElementWork"/> per element) below which a work-aware call runs on the caller alone.</summary>
    public long SerialWork { get; }

    /// <summary>Loops so far that were offered to helpers (the rest ran inline on the caller): a diagnostic.</summary>
    public long SplitLoops => Interlocked.Read(ref _splitLoops);

    /// <summary>Split loops so far in which the caller waited for a held-up helper, each followed by a back-off: a diagnostic.</summary>
    public long HeldUpLoops => Interlocked.Read(ref _heldUpLoops);

    /// <summary>Whether loops run on the caller alone now because a recent split loop was held up by a helper.</summary>
    public bool BackingOff => Threads > 1 && Stopwatch.GetTimestamp() < Volatile.Read(ref _backOffUntil);

    /// <summary>
    /// The index count for a loop of <paramref name="work"/> units that splits into at most <paramref name="parts"/>
    /// independent pieces: 1 with one thread or below <see cref="SerialWork"/>; else at least one per thread, and more
    /// (up to <see cref="MaxTasksPerThread"/> per thread) as the work grows, so that no index is a big fixed share.
    /// </summary>
    public int TasksFor(long work, long parts)
    {
        if (!Splits(work) || parts <= 1) return 1;
        long tasks = Math.Clamp(work / TaskWork, Threads, (long)Threads * MaxTasksPerThread);
        return (int)Math.Min(tasks, parts);
    }

    /// <summary>
    /// Whether a loop of <paramref name="work"/> units is split into indices for the pool: a rule of the work alone, so a
    /// kernel's decomposition (and with it its arithmetic) is the same in every call; a back-off changes only which
    /// thread runs the indices.
    /// </summary>
    public bool Splits(long work) => Threads > 1 && work >= SerialWork;

    /// <summary>Runs body.Execute(i) for i in [0, count): inline below <see cref="SerialWork"/>, else across the pool.</summary>
    public void For(int count, IParallelBody body, long work)
    {
        if (Splits(work)) For(count, body);
        else for (int i = 0; i < count; i++) body.Execute(i);
    }

    /// <summary>As <see cref="For(int, IParallelBody, long)"/> on <paramref name="pool"/>, or inline when it is null.</summary>
    public static void For(CpuThreadPool? pool, int count, IParallelBody body, long work)
    {
        if (pool is null) for (int i = 0; i < count; i++) body.Execute(i);
        else pool.For(count, body, work);
    }

    /// <summary>Runs body.Execute(i) for i in [0, count) across the pool and waits for all of them.</summary>
    public void For(int count, IParallelBody body)
    {
        if (count <= 0) return;
        if (Threads == 1 || count == 1 || BackingOff)
        {
            for (int i = 0; i < count; i++) body.Execute(i);
            return;
        }
        Interlocked.Increment(ref _splitLoops);
        long started = Stopwatch.GetTimestamp();
        _body = body;
        _count = count;
        _completed = 0;
        _failure = null;
        _failed = false;
        long generation = (Volatile.Read(ref _ticket) >> 32) + 1;
        Interlocked.Exchange(ref _ticket, generation << 32);
        _start.Release(Math.Min(_workers.Length, count - 1));
        int mine = Drain(generation, body, count);
        if (Interlocked.Add(ref _completed, mine) != count)
        {
            long drained = Stopwatch.GetTimestamp();
            Join(count);
            Judge(drained - started, Stopwatch.GetTimestamp() - drained);
        }
        else _backOffTicks = _minBackOffTicks;
        // Close the loop before the next one's body is written; take back the permits of helpers that never woke.
        Interlocked.Exchange(ref _ticket, (generation << 32) | Closed);
        while (_start.Wait(0)) { }
        _body = null;
        if (_failure is { } failure) throw new AggregateException(failure);
    }

    /// <summary>
    /// After a split loop: held up (the wait for a helper exceeded twice the caller's own share by
    /// <see cref="HeldUpMicroseconds"/>) starts a back-off and doubles the next one; a loop the helpers kept up with
    /// resets it to the shortest.
    /// </summary>
    private void Judge(long ownTicks, long waitTicks)
    {
        if (waitTicks <= 2 * ownTicks + HeldUpTicks)
        {
            _backOffTicks = _minBackOffTicks;
            return;
        }
        Interlocked.Increment(ref _heldUpLoops);
        Volatile.Write(ref _backOffUntil, Stopwatch.GetTimestamp() + _backOffTicks);
        _backOffTicks = Math.Min(2 * _backOffTicks, MaxBackOffFactor * _minBackOffTicks);
    }

    /// <summary>Waits for the indices helpers have taken: a short spin, then blocked (the core goes to whoever needs it).</summary>
    private void Join(int count)
    {
        long deadline = Stopwatch.GetTimestamp() + JoinSpinTicks;
        var spin = new SpinWait();
        while (Volatile.Read(ref _completed) != count)
        {
            if (Stopwatch.GetTimestamp() < deadline)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            // Reset before the check: a Set that comes after it wakes the Wait; a stale one makes the loop look again.
            _done.Reset();
            if (Volatile.Read(ref _completed) == count) break;
            _done.Wait();
        }
    }

    /// <summary>Takes and runs indices of loop <paramref name="generation"/> until none is left; returns how many it ran.</summary>
    private int Drain(long generation, IParallelBody body, int count)
    {
        int ran = 0;
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            int index = (int)(ticket & 0xFFFF_FFFF);
            if (ticket >> 32 != generation || index >= count) return ran;
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket) continue;
            ran++;
            if (_failed) continue;
            try
            {
                body.Execute(index);
            }
            catch (Exception e)
            {
                // The remaining indices are still taken (and counted) but not run.
                Interlocked.CompareExchange(ref _failure, e, null);
                _failed = true;
            }
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            // Watch a while before blocking: a training step or a blocked GEMM runs hundreds of short loops back to
            // back, and waking a blocked thread costs tens of microseconds on a VM. The watch yields, so on a shared
            // core it gives way to the caller. A permit released meanwhile is taken by Wait without blocking.
            long deadline = Stopwatch.GetTimestamp() + IdleSpinTicks;
            var spin = new SpinWait();
            while (_start.CurrentCount == 0 && !_disposed && Stopwatch.GetTimestamp() < deadline) spin.SpinOnce(sleep1Threshold: -1);
            _start.Wait();
            if (_disposed) return;
            // The loop this permit was for, or a later one; its body and count are read before any index is taken,
            // and an index is taken only while the ticket still carries the generation read here.
            long ticket = Volatile.Read(ref _ticket);
            if ((ticket & 0xFFFF_FFFF) == Closed) continue;
            var body = _body;
            int count = _count;
            if (body is null) continue;
            int ran = Drain(ticket >> 32, body, count);
            if (ran > 0 && Interlocked.Add(ref _completed, ran) == count) _done.Set();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        if (_workers.Length > 0) _start.Release(_workers.Length);
    }
}
