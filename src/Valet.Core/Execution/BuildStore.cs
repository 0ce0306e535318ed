using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Security;
using Valet.Core.Storage;

namespace Valet.Core.Execution;

/// <summary>
/// Build records. Console output is not here: it is written and read through <see cref="ConsoleLogs"/>. A build is
/// 'starting' from its claim until 'running' is committed just before its first process, then 'done';
/// only the server named on it (server_id) records its end, unless that server is gone
/// (<see cref="ReleaseAsync"/>).
/// </summary>
public sealed class BuildStore(Database db, InstallationSecrets secrets)
{
    const string Columns = "job_id, number, queue_id, state, result, started_at, duration, causes, params, executor, workspace, node, server_id";

    sealed record Row(long JobId, long Number, long QueueId, string State, string? Result, long StartedAt, long Duration,
        string Causes, string? Params, long Executor, string Workspace, string Node, string? ServerId);

    // A claimed build shows as building: its number is taken and an executor holds it.
    Build ToBuild(Row r) => new(r.JobId, r.Number, r.QueueId, r.State != "done", r.Result, r.StartedAt, r.Duration,
        Json.Read<List<Cause>>(r.Causes),
        StoredParameters.Unseal(r.Params, secrets),
        (int)r.Executor, r.Workspace, r.Node, r.ServerId);

    public Task<Build?> GetAsync(long jobId, long number, CancellationToken ct) =>
        db.ReadAsync(async s => await s.QueryFirstOrDefaultAsync<Row>(
            $"SELECT {Columns} FROM build WHERE job_id = @jobId AND number = @number", new { jobId, number }) is { } r ? ToBuild(r) : null, ct);

    /// <summary>A job's builds, newest first.</summary>
    public Task<IReadOnlyList<Build>> ListAsync(long jobId, int limit, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<Build>>(async s => (await s.QueryAsync<Row>(
            $"SELECT {Columns} FROM build WHERE job_id = @jobId ORDER BY number DESC LIMIT @limit", new { jobId, limit })).Select(ToBuild).ToList(), ct);

    /// <summary>What a job's colour is made of: its last completed build's result, and whether one is building.</summary>
    public sealed record Summary(long JobId, string? LastResult, long Building);

    /// <summary>Every job's <see cref="Summary"/> in one read, for a folder's listing.</summary>
    public async Task<IReadOnlyDictionary<long, Summary>> SummariesAsync(IReadOnlyCollection<long> jobIds, CancellationToken ct)
    {
        if (jobIds.Count == 0)
            return new Dictionary<long, Summary>();
        return await db.ReadAsync<IReadOnlyDictionary<long, Summary>>(async s => (await s.QueryAsync<Summary>(
            $"""
            SELECT j.id AS JobId,
                   (SELECT b.result FROM build b WHERE b.job_id = j.id AND b.state = 'done' ORDER BY b.number DESC LIMIT 1) AS LastResult,
                   CAST(CASE WHEN EXISTS (SELECT 1 FROM build b WHERE b.job_id = j.id AND b.state <> 'done') THEN 1 ELSE 0 END AS BIGINT) AS Building
            FROM item j WHERE j.id {db.Dialect.InList("@jobIds")}
            """, new { jobIds = jobIds.ToArray() })).ToDictionary(r => r.JobId), ct);
    }

    public static async Task<bool> IsBuildingAsync(Session s, long jobId) =>
        await s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM build WHERE job_id = @jobId AND state <> 'done'", new { jobId }) > 0;

    public Task<bool> IsBuildingAsync(long jobId, CancellationToken ct) => db.ReadAsync(s => IsBuildingAsync(s, jobId), ct);

    /// <summary>
    /// Records build <paramref name="number"/> of the item's job as claimed by server <paramref name="serverId"/>:
    /// 'starting' until <see cref="MarkStartedAsync"/>.
    /// </summary>
    public async Task<Build> StartAsync(Session s, QueueItem item, long number, int executor, string workspace, string node, string serverId, long now)
    {
        var sealedValues = StoredParameters.Seal(item.Parameters, secrets);
        await s.ExecuteAsync(
            """
            INSERT INTO build (job_id, number, queue_id, state, started_at, causes, params, executor, workspace, node, server_id)
            VALUES (@JobId, @number, @Id, 'starting', @now, @causes, @sealedValues, @executor, @workspace, @node, @serverId)
            """,
            new { item.JobId, number, item.Id, now, causes = Json.Write(item.Causes), sealedValues, executor, workspace, node, serverId });
        return new Build(item.JobId, number, item.Id, true, null, now, 0, item.Causes, item.Parameters, executor, workspace, node, serverId);
    }

    /// <summary>
    /// Commits that the build has started (limits.md §3), before its first process, and from when it
    /// counts its time: from here a crash records it aborted instead of queueing its item again. Null
    /// when the build is no longer this server's to start (its server was found dead and the item went
    /// back to the queue).
    /// </summary>
    public Task<Build?> MarkStartedAsync(Build build, long now, CancellationToken ct) =>
        db.WriteAsync(async s => await s.ExecuteAsync(
            "UPDATE build SET state = 'running', started_at = @now WHERE job_id = @JobId AND number = @Number AND state = 'starting' AND server_id = @ServerId",
            new { build.JobId, build.Number, build.ServerId, now }) == 1 ? build with { StartedAt = now } : null, ct);

    /// <summary>
    /// Takes the job's build slot for <paramref name="build"/>, in the claim's transaction: the row that
    /// says the job is building, which the queue's claim skips. False when another build holds it.
    /// </summary>
    public static async Task<bool> TakeSlotAsync(Session s, Build build) =>
        await s.ExecuteAsync("INSERT INTO job_build_slot (job_id, number) VALUES (@JobId, @Number) ON CONFLICT DO NOTHING",
            new { build.JobId, build.Number }) == 1;

    /// <summary>
    /// Records the result and releases the job's build slot, if the build held it, in one transaction.
    /// Only a build still open and still run by the server that claimed it: once another server has
    /// recorded its end (its server was found dead), that record is final and a late result is
    /// dropped (false).
    /// </summary>
    public Task<bool> FinishAsync(Build build, string result, long now, CancellationToken ct) =>
        db.WriteAsync(async s =>
        {
            if (await s.ExecuteAsync(
                "UPDATE build SET state = 'done', result = @result, duration = @duration WHERE job_id = @JobId AND number = @Number AND state <> 'done' AND server_id = @ServerId",
                new { result, duration = Math.Max(0, now - build.StartedAt), build.JobId, build.Number, build.ServerId }) == 0)
                return false;
            await s.ExecuteAsync("DELETE FROM job_build_slot WHERE job_id = @JobId AND number = @Number", new { build.JobId, build.Number });
            return true;
        }, ct);

    /// <summary>A build whose end <see cref="ReleaseAsync"/> recorded.</summary>
    public sealed record Released(long JobId, long Number);

    /// <summary>
    /// Ends the work of server <paramref name="serverId"/> (every server's when null, as after a crash
    /// of SQLite's one server), in the caller's transaction: builds that started are recorded
    /// ABORTED; builds only claimed are removed and their items go back to the queue with the same
    /// ids (their numbers are not reused); slots of builds no longer open are freed. Every statement
    /// is conditional, so two servers doing this at once for the same server end each build once.
    /// Returns the builds recorded aborted.
    /// </summary>
    public static async Task<IReadOnlyList<Released>> ReleaseAsync(Session s, string? serverId, long now)
    {
        // Builds of releases before server_id was recorded belong to no live server.
        var ofServer = serverId is null ? "" : "AND COALESCE(server_id, '') = @serverId";
        var aborted = (await s.QueryAsync<Released>(
            $"""
            UPDATE build SET state = 'done', result = 'ABORTED', duration = CASE WHEN @now > started_at THEN @now - started_at ELSE 0 END
            WHERE state = 'running' {ofServer} RETURNING job_id, number
            """, new { serverId = serverId ?? "", now })).ToList();
        var unstarted = (await s.QueryAsync<long>(
            $"DELETE FROM build WHERE state = 'starting' {ofServer} RETURNING queue_id", new { serverId = serverId ?? "" })).ToList();
        foreach (var id in unstarted)
        {
            // The same kind may have been queued again since the claim: then this item keeps its id
            // and runs on its own, under a fold key no request has, so the waiting items stay one per kind.
            await s.ExecuteAsync(
                """
                UPDATE queue_item SET state = 'queued', build_number = NULL, claimed_by = NULL, left_at = NULL,
                    params_key = CASE WHEN EXISTS (SELECT 1 FROM queue_item w WHERE w.job_id = queue_item.job_id AND w.state = 'queued'
                                                   AND COALESCE(w.params_key, '') = COALESCE(queue_item.params_key, ''))
                                      THEN 'returned ' || CAST(id AS TEXT) ELSE params_key END
                WHERE id = @id AND state = 'left'
                """, new { id });
        }
        await s.ExecuteAsync(
            """
            DELETE FROM job_build_slot WHERE NOT EXISTS (SELECT 1 FROM build b
                WHERE b.job_id = job_build_slot.job_id AND b.number = job_build_slot.number AND b.state <> 'done')
            """);
        if (unstarted.Count > 0)
            s.Announce(BuildQueue.QueueTopic);
        return aborted;
    }

    /// <summary>A request to stop a running build; <paramref name="By"/> names who asked first.</summary>
    public sealed record AbortRequest(long JobId, long Number, string By);

    /// <summary>
    /// Records on a running build that <paramref name="by"/> asked it to stop, so whichever process runs
    /// it stops it. Returns who asked first (an earlier request is kept), or null when it is not running.
    /// </summary>
    public Task<string?> RequestAbortAsync(long jobId, long number, string by, CancellationToken ct) =>
        db.WriteAsync(s => s.QueryFirstOrDefaultAsync<string>(
            """
            UPDATE build SET abort_requested_by = COALESCE(abort_requested_by, @by)
            WHERE job_id = @jobId AND number = @number AND state <> 'done' RETURNING abort_requested_by
            """, new { jobId, number, by }), ct);

    /// <summary>Records an abort request on every running build of these jobs; returns the requests now standing.</summary>
    public Task<IReadOnlyList<AbortRequest>> RequestAbortAllAsync(IReadOnlyCollection<long> jobIds, string by, CancellationToken ct) =>
        db.WriteAsync<IReadOnlyList<AbortRequest>>(async s => (await s.QueryAsync<AbortRequest>(
            $"""
            UPDATE build SET abort_requested_by = COALESCE(abort_requested_by, @by)
            WHERE job_id {db.Dialect.InList("@jobIds")} AND state <> 'done' RETURNING job_id, number, abort_requested_by AS by
            """, new { jobIds = jobIds.ToList(), by })).ToList(), ct);

    /// <summary>The abort requests standing on running builds, wherever they run.</summary>
    public Task<IReadOnlyList<AbortRequest>> AbortRequestsAsync(CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<AbortRequest>>(async s => (await s.QueryAsync<AbortRequest>(
            "SELECT job_id, number, abort_requested_by AS by FROM build WHERE state IN ('starting', 'running') AND abort_requested_by IS NOT NULL")).ToList(), ct);
}
