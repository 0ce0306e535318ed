using Valet.Core.Storage;

namespace Valet.Core.Security;

/// <summary>
/// Slows and then refuses repeated failed sign-ins (form or HTTP Basic) per client address, in memory
/// (and shared by every server of a shared store):
/// below <see cref="MaxFailures"/> failures within <see cref="Window"/> an attempt is only delayed (at
/// most a second); at that many, attempts from the address are refused until the oldest failure leaves
/// the window. Other addresses are never affected, so a user is not locked out everywhere.
/// </summary>
public sealed class SignInGuard(TimeProvider time, Database? db = null)
{
    public const int MaxFailures = 10;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);
    static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);
    static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);

    readonly FailureTable failures = new(Window, time, db: db, name: "sign-in");

    /// <summary>Whether attempts from <paramref name="address"/> are refused now, and for how long.</summary>
    public bool IsBlocked(string address, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        var recent = failures.Recent(address);
        if (recent.Length < MaxFailures)
            return false;
        // Blocked until enough failures have left the window to fall below the limit.
        retryAfter = DateTimeOffset.FromUnixTimeMilliseconds(recent[^MaxFailures]) + Window - time.GetUtcNow();
        return true;
    }

    /// <summary>Records a failure and returns the delay to add before answering it.</summary>
    public TimeSpan RecordFailure(string address)
    {
        var delay = Step * (failures.Record(address) - 1);
        return delay < MaxDelay ? delay : MaxDelay;
    }

    /// <summary>Failures of <paramref name="address"/> still inside the window.</summary>
    public int FailuresOf(string address) => failures.Recent(address).Length;
}
