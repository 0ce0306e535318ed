using Valet.Core.Configuration;
using Valet.Core.Items;
using Valet.Core.Queue;

namespace Valet.Core.Triggers;

/// <summary>What every trigger path shares: when the build is due, from `delay` or the quiet period.</summary>
public sealed class Triggering(ServerSettings server, TimeProvider time)
{
    public TimeSpan QuietPeriod(Item job) => TimeSpan.FromSeconds(job.Job!.QuietPeriod ?? server.QuietPeriod);

    /// <summary>The due time for a request's `delay` (null: the job's quiet period); false when `delay` is malformed.</summary>
    public bool TryDueAt(Item job, string? delay, out DateTimeOffset due)
    {
        var now = time.GetUtcNow();
        if (delay is null)
        {
            due = now + QuietPeriod(job);
            return true;
        }
        if (Delay.TryParseSeconds(delay, out var seconds) && Delay.DueAt(now, seconds) is { } at)
        {
            due = at;
            return true;
        }
        due = default;
        return false;
    }

    /// <summary>Whether `delay` is well formed, for checks that come before the job is known.</summary>
    public bool DelayIsValid(string? delay) =>
        delay is null || Delay.TryParseSeconds(delay, out var seconds) && Delay.DueAt(time.GetUtcNow(), seconds) is not null;
}
