using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Valet.Core.Configuration;
using Valet.Core.Storage;

namespace Valet.Core.Triggers;

/// <summary>One /buildByToken request as the audit log keeps it. Never a token or password value.</summary>
public sealed record AuditEntry(
    long Id, long Time, string Endpoint, string? Job, string? FullName, string Address, long Status, string? Reason,
    long? QueueId, string? IdempotencyKey, string? TokenName, long Count);

/// <summary>
/// The audit log of the token endpoints and the tokens' last-used data. Both are written in batches
/// off the request path (at most about a second late); queue items never are.
/// </summary>
public sealed partial class TriggerAudit(Database db, TriggerGuardSettings guard, TimeProvider time, ILogger<TriggerAudit> logger) : BackgroundService
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(90);
    static readonly TimeSpan FlushEvery = TimeSpan.FromMilliseconds(250);

    abstract record Pending;
    sealed record Entry(AuditEntry Value) : Pending;
    sealed record TokenUse(long TokenId, string Address, long At) : Pending;

    readonly SemaphoreSlim flushing = new(1, 1);
    readonly Channel<Pending> pending = Channel.CreateUnbounded<Pending>(new() { SingleReader = true });
    // The open 429 entry per address: later 429s of the same window add to its count.
    readonly Dictionary<string, (long Id, long WindowStart)> rateLimited = [];
    long lastPurge;

    public void Record(AuditEntry entry) => pending.Writer.TryWrite(new Entry(entry with { Job = Shortened(entry.Job) }));

    /// <summary>limits.md §1: the longest <c>job</c> the audit and Debug logs keep.</summary>
    public const int MaxLoggedJob = 256;

    /// <summary>A sent <c>job</c> as the logs keep it: at most 256 characters, the cut marked with '…'.</summary>
    public static string? Shortened(string? job)
    {
        if (job is null || job.Length <= MaxLoggedJob)
            return job;
        var keep = MaxLoggedJob - 1;
        // Never half a surrogate pair.
        if (char.IsHighSurrogate(job[keep - 1]))
            keep--;
        return string.Concat(job.AsSpan(0, keep), "…");
    }

    public void RecordTokenUse(long tokenId, string address) =>
        pending.Writer.TryWrite(new TokenUse(tokenId, address, time.GetUtcNow().ToUnixTimeMilliseconds()));

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await Task.Delay(FlushEvery, time, stopping);
                await FlushAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        await FlushAsync(CancellationToken.None);
    }

    /// <summary>
    /// Writes everything recorded so far, in writes of at most <see cref="RowsPerWrite"/> so the queue's
    /// writes are not held up behind a large flush. Flushes run one at a time, so entries keep their order.
    /// </summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        await flushing.WaitAsync(ct);
        try
        {
            var batch = new List<Pending>();
            while (pending.Reader.TryRead(out var p))
                batch.Add(p);
            foreach (var chunk in batch.Chunk(RowsPerWrite))
                await db.WriteAsync(s => WriteAsync(s, chunk), ct);
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (now - lastPurge > TimeSpan.FromHours(1).TotalMilliseconds)
            {
                lastPurge = now;
                await db.WriteAsync(s => PurgeAsync(s, now), ct);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.WriteFailed(logger, e);
        }
        finally
        {
            flushing.Release();
        }
    }

    const int RowsPerWrite = 2000;

    const string InsertSql = """
        INSERT INTO trigger_audit (time, endpoint, job, full_name, address, status, reason, queue_id, idempotency_key, token_name)
        VALUES (@Time, @Endpoint, @Job, @FullName, @Address, @Status, @Reason, @QueueId, @IdempotencyKey, @TokenName)
        """;
    static readonly Statement Insert = new(InsertSql);
    static readonly Statement InsertReturningId = new(InsertSql + " RETURNING id");
    static readonly Statement CountAgain = new("UPDATE trigger_audit SET count = count + 1 WHERE id = @Id");
    static readonly Statement UseToken = new(
        "UPDATE job_token SET last_used_at = @At, last_used_address = @Address WHERE id = @TokenId AND (last_used_at IS NULL OR last_used_at <= @At)");

    async Task WriteAsync(Session s, Pending[] batch)
    {
        // Under load a flush carries thousands of rows: each statement is kept prepared and run once per row.
        foreach (var e in batch.OfType<Entry>().Select(e => e.Value))
        {
            // A 429 counts on its address's open entry, or opens one.
            if (e.Status == 429 && CollapseInto(e) is { } id)
            {
                await s.ExecuteAsync(CountAgain, new { Id = id });
                continue;
            }
            var row = new { e.Time, e.Endpoint, e.Job, e.FullName, e.Address, e.Status, e.Reason, e.QueueId, e.IdempotencyKey, e.TokenName };
            if (e.Status == 429)
                rateLimited[e.Address] = (await s.QueryFirstOrDefaultAsync<long>(InsertReturningId, row), e.Time);
            else
                await s.ExecuteAsync(Insert, row);
        }
        // The latest use per token is all that is kept.
        var uses = batch.OfType<TokenUse>().GroupBy(u => u.TokenId).Select(g => g.MaxBy(u => u.At)!).ToList();
        foreach (var use in uses)
            await s.ExecuteAsync(UseToken, new { use.At, use.Address, use.TokenId });
    }

    static async Task PurgeAsync(Session s, long now)
    {
        await s.ExecuteAsync("DELETE FROM trigger_audit WHERE time < @cutoff", new { cutoff = now - (long)Retention.TotalMilliseconds });
        await s.ExecuteAsync("DELETE FROM idempotency_key WHERE created_at < @cutoff", new { cutoff = now - (long)IdempotencyKeys.Lifetime.TotalMilliseconds });
    }

    long? CollapseInto(AuditEntry e) =>
        rateLimited.TryGetValue(e.Address, out var open) && e.Time - open.WindowStart < guard.WindowSeconds * 1000L ? open.Id : null;

    /// <summary>Newest first, at most <paramref name="limit"/>, below <paramref name="before"/> when given.</summary>
    public Task<IReadOnlyList<AuditEntry>> ListAsync(int limit, long? before, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<AuditEntry>>(async s => (await s.QueryAsync<AuditEntry>(
            """
            SELECT id, time, endpoint, job, full_name, address, status, reason, queue_id, idempotency_key, token_name, count
            FROM trigger_audit WHERE (@before IS NULL OR id < @before) ORDER BY id DESC LIMIT @limit
            """, new { limit, before })).ToList(), ct);

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Writing audit entries failed")]
        public static partial void WriteFailed(ILogger logger, Exception e);
    }
}
