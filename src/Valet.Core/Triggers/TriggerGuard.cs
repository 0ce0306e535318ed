using System.Collections.Concurrent;
using Valet.Core.Configuration;

namespace Valet.Core.Triggers;

/// <summary>
/// The brute-force guard of the token endpoints: failures (a presented token answered 404 or 403)
/// counted per client address over a sliding window; at the limit the address is refused until
/// enough failures age out. Other addresses are unaffected.
/// </summary>
public sealed class TriggerGuard(TriggerGuardSettings settings, TimeProvider time)
{
    readonly ConcurrentDictionary<string, Queue<long>> failures = new();
    TimeSpan Window => TimeSpan.FromSeconds(settings.WindowSeconds);

    /// <summary>Null when the address may go on; else how long until it may.</summary>
    public TimeSpan? RetryAfter(string address)
    {
        if (!settings.Enabled || !failures.TryGetValue(address, out var q))
            return null;
        lock (q)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            Expire(q, now);
            if (q.Count < settings.MaxFailures)
                return null;
            // Below the limit again once the oldest failures that keep it there have aged out.
            var releaseAt = q.ElementAt(q.Count - settings.MaxFailures) + (long)Window.TotalMilliseconds;
            return TimeSpan.FromMilliseconds(Math.Max(1, releaseAt - now));
        }
    }

    public void RecordFailure(string address)
    {
        if (!settings.Enabled)
            return;
        var q = failures.GetOrAdd(address, _ => new Queue<long>());
        lock (q)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            Expire(q, now);
            q.Enqueue(now);
        }
    }

    void Expire(Queue<long> q, long now)
    {
        while (q.Count > 0 && now - q.Peek() >= Window.TotalMilliseconds)
            q.Dequeue();
    }
}
