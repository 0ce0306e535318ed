using System.Collections.Concurrent;
using Valet.Core.Storage;

namespace Valet.Core.Triggers;

public sealed record StoredAnswer(long Status, string? Location);

/// <summary>
/// First answers to an `Idempotency-Key`, per job and endpoint, replayed for 24 hours. Uses of one key
/// are serialized so two concurrent first uses cannot both queue a build.
/// </summary>
public sealed class IdempotencyKeys(Database db, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    readonly ConcurrentDictionary<(long, string, string), SemaphoreSlim> locks = new();

    /// <summary>1–255 visible ASCII characters.</summary>
    public static bool IsValid(string key) => key.Length is >= 1 and <= 255 && key.All(c => c is >= '!' and <= '~');

    public async Task<IDisposable> LockAsync(long jobId, string endpoint, string key, CancellationToken ct)
    {
        var gate = locks.GetOrAdd((jobId, endpoint, key), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        return new Release(() =>
        {
            gate.Release();
            if (gate.CurrentCount == 1)
                locks.TryRemove(new KeyValuePair<(long, string, string), SemaphoreSlim>((jobId, endpoint, key), gate));
        });
    }

    sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    public Task<StoredAnswer?> FindAsync(long jobId, string endpoint, string key, CancellationToken ct) =>
        db.ReadAsync(s => s.QueryFirstOrDefaultAsync<StoredAnswer>(
            "SELECT status, location FROM idempotency_key WHERE job_id = @jobId AND endpoint = @endpoint AND key = @key AND created_at > @cutoff",
            new { jobId, endpoint, key, cutoff = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)Lifetime.TotalMilliseconds }), ct);

    /// <summary>Stores a final answer, in the same transaction as what it reports.</summary>
    public Task StoreAsync(Session s, long jobId, string endpoint, string key, StoredAnswer answer) =>
        s.ExecuteAsync(
            """
            INSERT INTO idempotency_key (job_id, endpoint, key, status, location, created_at) VALUES (@jobId, @endpoint, @key, @Status, @Location, @now)
            ON CONFLICT (job_id, endpoint, key) DO UPDATE SET status = excluded.status, location = excluded.location, created_at = excluded.created_at
            """,
            new { jobId, endpoint, key, answer.Status, answer.Location, now = time.GetUtcNow().ToUnixTimeMilliseconds() });

    public Task StoreNowAsync(long jobId, string endpoint, string key, StoredAnswer answer, CancellationToken ct) =>
        db.WriteAsync(s => StoreAsync(s, jobId, endpoint, key, answer), ct);
}
