using Valet.Core.Execution;
using Valet.Core.Storage;

namespace Valet.Core.Scm;

/// <summary>
/// Jobs waiting for a polling run, as rows of scm_poll_request that every server on the store shares.
/// A request for a job already waiting coalesces into that row, whichever server it reaches; one
/// arriving while the job's poll runs marks the row for exactly one more run, because the running poll
/// may have read the remote head before the change it announces. A worker claims a waiting row in one
/// statement (SKIP LOCKED on PostgreSQL), so each job is polled by one server at a time; a claim held
/// by a server whose heartbeat stopped is taken over.
/// </summary>
public sealed class PollRequests
{
    /// <summary>The announcement that wakes other servers' workers when a job starts waiting.</summary>
    public const string Topic = "scm-poll";

    // Other servers' requests are announced; this is the look a worker takes without one (a lost
    // announcement, a dead server's claim to take over).
    static readonly TimeSpan LookEvery = TimeSpan.FromSeconds(5);

    readonly Database db;
    readonly ServerNode node;
    readonly TimeProvider time;
    readonly SemaphoreSlim signal = new(0);

    public PollRequests(Database db, ServerNode node, TimeProvider time)
    {
        this.db = db;
        this.node = node;
        this.time = time;
        db.Announced += topic =>
        {
            if (topic is Topic or "*")
                Wake();
        };
    }

    long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    void Wake()
    {
        // Under the lock the count is checked and raised as one step, so a burst wakes each worker at most once.
        lock (signal)
        {
            if (signal.CurrentCount < ScmPoller.Workers)
                signal.Release();
        }
    }

    /// <summary>How many jobs are waiting for a polling run or being polled, on every server.</summary>
    public Task<long> PendingAsync(CancellationToken ct) =>
        db.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM scm_poll_request"), ct);

    /// <summary>Asks for a polling run of the job; false when it coalesced into one already asked for.</summary>
    public async Task<bool> RequestAsync(long jobId, CancellationToken ct)
    {
        // The row is inserted waiting; if one exists, only a running poll is changed (to 'again'): a
        // waiting row, or one already marked again, answers no row, which is the coalesced request.
        var state = await db.WriteAsync(async s =>
        {
            var state = await s.QueryFirstOrDefaultAsync<string>(
                """
                INSERT INTO scm_poll_request (job_id, state, server_id, requested_at)
                SELECT @jobId, 'waiting', NULL, @now WHERE EXISTS (SELECT 1 FROM item WHERE id = @jobId)
                ON CONFLICT (job_id) DO UPDATE SET state = 'again' WHERE scm_poll_request.state = 'running'
                RETURNING state
                """, new { jobId, now = Now });
            if (state == "waiting")
                s.Announce(Topic);
            return state;
        }, ct);
        if (state == "waiting")
            Wake();
        return state is not null;
    }

    const string Claimable = """
        r.state = 'waiting'
           OR (r.server_id <> @Id AND NOT EXISTS (SELECT 1 FROM server_node n WHERE n.id = r.server_id AND n.heartbeat_at >= @alive))
        """;

    /// <summary>Claims the job waiting longest, or one a dead server was polling; null when there is none.</summary>
    public async Task<long?> TryClaimAsync(CancellationToken ct)
    {
        var args = new { node.Id, alive = Now - (long)ServerHeartbeat.DeadAfter.TotalMilliseconds };
        // An idle server looks every few seconds: a read, so that finding nothing writes nothing.
        if (!await db.ReadAsync(s => s.ExecuteScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM scm_poll_request r WHERE {Claimable})", args), ct))
            return null;
        return await db.WriteAsync(s => s.QueryFirstOrDefaultAsync<long?>(
            $"""
            UPDATE scm_poll_request SET state = 'running', server_id = @Id
            WHERE job_id = (
                SELECT job_id FROM scm_poll_request r WHERE {Claimable}
                ORDER BY r.requested_at, r.job_id LIMIT 1 {db.Dialect.SkipLocked})
            RETURNING job_id
            """, args), ct);
    }

    /// <summary>The next job to poll, once this server claimed it; it stays claimed until <see cref="DoneAsync"/>.</summary>
    public async Task<long> TakeAsync(CancellationToken ct)
    {
        while (true)
        {
            if (node.CanClaim && await TryClaimAsync(ct) is { } jobId)
                return jobId;
            await signal.WaitAsync(LookEvery, ct);
        }
    }

    /// <summary>Ends this server's poll of the job: the row goes, or waits again when a request came meanwhile.</summary>
    public async Task DoneAsync(long jobId, CancellationToken ct)
    {
        var again = await db.WriteAsync(async s =>
        {
            await s.ExecuteAsync("DELETE FROM scm_poll_request WHERE job_id = @jobId AND server_id = @Id AND state = 'running'", new { jobId, node.Id });
            var again = await s.ExecuteAsync(
                "UPDATE scm_poll_request SET state = 'waiting', server_id = NULL, requested_at = @now WHERE job_id = @jobId AND server_id = @Id AND state = 'again'",
                new { jobId, node.Id, now = Now }) == 1;
            if (again)
                s.Announce(Topic);
            return again;
        }, ct);
        if (again)
            Wake();
    }
}
