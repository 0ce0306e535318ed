namespace Valet.Core.Security;

/// <summary>
/// Slows and then refuses repeated failed sign-ins (form or HTTP Basic) per client address, in memory:
/// below <see cref="MaxFailures"/> failures within <see cref="Window"/> an attempt is only delayed (at
/// most a second); at that many, attempts from the address are refused until the oldest failure leaves
/// the window. Other addresses are never affected, so a user is not locked out everywhere.
/// </summary>
public sealed class SignInGuard(TimeProvider time)
{
    public const int MaxFailures = 10;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);
    static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);
    static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);
    const int SweepAbove = 10_000;

    readonly Dictionary<string, Queue<DateTimeOffset>> failures = new(StringComparer.Ordinal);

    /// <summary>Whether attempts from <paramref name="address"/> are refused now, and for how long.</summary>
    public bool IsBlocked(string address, out TimeSpan retryAfter)
    {
        lock (failures)
        {
            var now = time.GetUtcNow();
            retryAfter = TimeSpan.Zero;
            if (!failures.TryGetValue(address, out var recent))
                return false;
            Expire(recent, now);
            if (recent.Count < MaxFailures)
                return false;
            // Blocked until enough failures have left the window to fall below the limit.
            retryAfter = recent.ElementAt(recent.Count - MaxFailures) + Window - now;
            return true;
        }
    }

    /// <summary>Records a failure and returns the delay to add before answering it.</summary>
    public TimeSpan RecordFailure(string address)
    {
        lock (failures)
        {
            var now = time.GetUtcNow();
            if (failures.Count > SweepAbove)
                Sweep(now);
            if (!failures.TryGetValue(address, out var recent))
                failures[address] = recent = new Queue<DateTimeOffset>();
            Expire(recent, now);
            recent.Enqueue(now);
            var delay = Step * (recent.Count - 1);
            return delay < MaxDelay ? delay : MaxDelay;
        }
    }

    /// <summary>Failures of <paramref name="address"/> still inside the window.</summary>
    public int FailuresOf(string address)
    {
        lock (failures)
        {
            if (!failures.TryGetValue(address, out var recent))
                return 0;
            Expire(recent, time.GetUtcNow());
            return recent.Count;
        }
    }

    static void Expire(Queue<DateTimeOffset> recent, DateTimeOffset now)
    {
        while (recent.Count > 0 && recent.Peek() + Window <= now)
            recent.Dequeue();
    }

    void Sweep(DateTimeOffset now)
    {
        foreach (var (address, recent) in failures.ToList())
        {
            Expire(recent, now);
            if (recent.Count == 0)
                failures.Remove(address);
        }
    }
}
