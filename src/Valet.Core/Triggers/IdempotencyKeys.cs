using Valet.Core.Queue;
using Valet.Core.Storage;

namespace Valet.Core.Triggers;

/// <summary>
/// What the first request with an `Idempotency-Key` got, per job and scope, replayed for 24 hours. The
/// key's row is claimed in the transaction that queues the build (a unique key and one upsert), so two
/// concurrent first uses cannot both queue one, whichever process serves them.
/// </summary>
public sealed class IdempotencyKeys(Database db, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>1–255 visible ASCII characters.</summary>
    public static bool IsValid(string key) => key.Length is >= 1 and <= 255 && key.All(c => c is >= '!' and <= '~');

    sealed record Row(string Outcome, long? QueueId);

    long Cutoff => time.GetUtcNow().ToUnixTimeMilliseconds() - (long)Lifetime.TotalMilliseconds;

    /// <summary>The outcome the key's first use got, while it is remembered.</summary>
    public Task<BuildOutcome?> FindAsync(long jobId, IdempotencyKey key, CancellationToken ct) =>
        db.ReadAsync(s => FindAsync(s, jobId, key), ct);

    async Task<BuildOutcome?> FindAsync(Session s, long jobId, IdempotencyKey key) =>
        await s.QueryFirstOrDefaultAsync<Row>(
            "SELECT outcome, queue_id FROM idempotency_key WHERE job_id = @jobId AND endpoint = @Scope AND key = @Key AND created_at > @cutoff AND outcome <> 'pending'",
            new { jobId, key.Scope, key.Key, cutoff = Cutoff }) is { } row ? ToOutcome(row) : null;

    static BuildOutcome ToOutcome(Row row) => row.Outcome switch
    {
        "queued" => new BuildOutcome.Queued(row.QueueId ?? 0),
        "folded" => new BuildOutcome.Folded(row.QueueId ?? 0),
        _ => new BuildOutcome.PollScheduled(),
    };

    static Row ToRow(BuildOutcome outcome) => outcome switch
    {
        BuildOutcome.Queued q => new("queued", q.QueueId),
        BuildOutcome.Folded f => new("folded", f.QueueId),
        BuildOutcome.PollScheduled => new("scheduled", null),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "only a done request is remembered"),
    };

    /// <summary>Takes the key for this transaction: false when a live record holds it already.</summary>
    public async Task<bool> ClaimAsync(Session s, long jobId, IdempotencyKey key) =>
        await s.QueryFirstOrDefaultAsync<long?>(
            """
            INSERT INTO idempotency_key (job_id, endpoint, key, outcome, queue_id, created_at) VALUES (@jobId, @Scope, @Key, 'pending', NULL, @now)
            ON CONFLICT (job_id, endpoint, key) DO UPDATE SET outcome = 'pending', queue_id = NULL, created_at = excluded.created_at
            WHERE idempotency_key.created_at <= @cutoff
            RETURNING 1
            """,
            new { jobId, key.Scope, key.Key, now = time.GetUtcNow().ToUnixTimeMilliseconds(), cutoff = Cutoff }) is not null;

    /// <summary>Records what the claimed key's request got, in the claim's transaction.</summary>
    public Task RecordAsync(Session s, long jobId, IdempotencyKey key, BuildOutcome outcome)
    {
        var row = ToRow(outcome);
        return s.ExecuteAsync(
            "UPDATE idempotency_key SET outcome = @Outcome, queue_id = @QueueId WHERE job_id = @jobId AND endpoint = @Scope AND key = @Key",
            new { row.Outcome, row.QueueId, jobId, key.Scope, key.Key });
    }

    /// <summary>Records <paramref name="outcome"/> unless the key was used meanwhile; returns what the key stands for now.</summary>
    public Task<BuildOutcome> RecordOnceAsync(long jobId, IdempotencyKey key, BuildOutcome outcome, CancellationToken ct) =>
        db.WriteAsync(async s =>
        {
            if (!await ClaimAsync(s, jobId, key))
                return new BuildOutcome.Replayed(await FindAsync(s, jobId, key) ?? outcome);
            await RecordAsync(s, jobId, key, outcome);
            return outcome;
        }, ct);
}
