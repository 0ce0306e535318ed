using Valet.Core.Configuration;
using Valet.Core.Security;
using Valet.Core.Storage;

namespace Valet.Core.Triggers;

/// <summary>
/// The brute-force guard of the token endpoints: failures (a presented token answered 404 or 403)
/// counted per client address over a sliding window; at the limit the address is refused until
/// enough failures age out. Other addresses are unaffected.
/// </summary>
public sealed class TriggerGuard(TriggerGuardSettings settings, TimeProvider time, Database? db = null)
{
    readonly FailureTable failures = new(TimeSpan.FromSeconds(settings.WindowSeconds), time, db: db, name: "trigger");

    /// <summary>Null when the address may go on; else how long until it may.</summary>
    public TimeSpan? RetryAfter(string address)
    {
        if (!settings.Enabled)
            return null;
        var recent = failures.Recent(address);
        if (recent.Length < settings.MaxFailures)
            return null;
        // Below the limit again once the oldest failures that keep it there have aged out.
        var releaseAt = recent[^settings.MaxFailures] + settings.WindowSeconds * 1000L;
        return TimeSpan.FromMilliseconds(Math.Max(1, releaseAt - time.GetUtcNow().ToUnixTimeMilliseconds()));
    }

    public void RecordFailure(string address)
    {
        if (settings.Enabled)
            failures.Record(address);
    }
}
