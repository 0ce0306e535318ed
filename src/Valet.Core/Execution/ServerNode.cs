using System.Security.Cryptography;
using Valet.Core.Storage;

namespace Valet.Core.Execution;

/// <summary>
/// This server process as the store knows it: an id no other process has had (host, pid and random
/// bits, since a pid comes back after a restart), recorded on the builds it claims. While
/// <see cref="CanClaim"/> is false (its heartbeat cannot be written) it takes no new work.
/// </summary>
public sealed class ServerNode
{
    volatile bool canClaim = true;

    public required string Id { get; init; }
    public required string Host { get; init; }
    public required long Pid { get; init; }
    public required string Urls { get; init; }

    public bool CanClaim
    {
        get => canClaim;
        set => canClaim = value;
    }

    public static ServerNode ForThisProcess(string urls) => new()
    {
        Id = $"{Environment.MachineName}:{Environment.ProcessId}:{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}",
        Host = Environment.MachineName,
        Pid = Environment.ProcessId,
        Urls = urls,
    };
}

/// <summary>The server_node rows: who writes the store, and when each last said so.</summary>
public sealed class ServerNodes(Database db)
{
    /// <summary>Records <paramref name="node"/> as alive now; again after it was found dead.</summary>
    public Task RegisterAsync(ServerNode node, long now, CancellationToken ct) =>
        db.WriteAsync(s => s.ExecuteAsync(
            """
            INSERT INTO server_node (id, host, pid, urls, started_at, heartbeat_at) VALUES (@Id, @Host, @Pid, @Urls, @now, @now)
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
            """, new { node.Id, node.Host, node.Pid, node.Urls, now }), ct);

    /// <summary>The heartbeat. False when the row is gone: another server found this one dead and ended its builds.</summary>
    public Task<bool> BeatAsync(ServerNode node, long now, CancellationToken ct) =>
        db.WriteAsync(async s => await s.ExecuteAsync(
            "UPDATE server_node SET heartbeat_at = @now WHERE id = @Id", new { node.Id, now }) == 1, ct);

    /// <summary>
    /// Servers silent since <paramref name="silentSince"/>, and servers named on open builds that have
    /// no row at all (found dead while a claim of theirs was committing, or from before heartbeats).
    /// </summary>
    public Task<IReadOnlyList<string>> DeadAsync(string self, long silentSince, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<string>>(async s => (await s.QueryAsync<string>(
            """
            SELECT id FROM server_node WHERE heartbeat_at < @silentSince AND id <> @self
            UNION
            SELECT DISTINCT COALESCE(server_id, '') FROM build
            WHERE state IN ('starting', 'running') AND COALESCE(server_id, '') <> @self AND NOT EXISTS (SELECT 1 FROM server_node n WHERE n.id = build.server_id)
            """, new { self, silentSince })).ToList(), ct);

    /// <summary>
    /// Ends the work of server <paramref name="serverId"/> and removes its row, in one transaction,
    /// unless it has beaten since <paramref name="silentSince"/>. Two servers doing this at once: the
    /// second finds nothing left to end.
    /// </summary>
    public Task<IReadOnlyList<BuildStore.Released>> EndDeadAsync(string serverId, long silentSince, long now, CancellationToken ct) =>
        db.WriteAsync<IReadOnlyList<BuildStore.Released>>(async s =>
        {
            await s.ExecuteAsync("DELETE FROM server_node WHERE id = @serverId AND heartbeat_at < @silentSince", new { serverId, silentSince });
            if (await s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM server_node WHERE id = @serverId", new { serverId }) > 0)
                return [];
            return await BuildStore.ReleaseAsync(s, serverId, now);
        }, ct);

    /// <summary>
    /// After SQLite's one server crashed: every open build is from then. Started ones are recorded
    /// aborted, claimed ones go back to the queue, and the rows of earlier incarnations go.
    /// </summary>
    public Task<IReadOnlyList<BuildStore.Released>> EndAllAsync(long now, CancellationToken ct) =>
        db.WriteAsync(async s =>
        {
            await s.ExecuteAsync("DELETE FROM server_node");
            return await BuildStore.ReleaseAsync(s, null, now);
        }, ct);

    /// <summary>At a clean stop: the builds are recorded already, so nothing is left to end.</summary>
    public Task RemoveAsync(ServerNode node, CancellationToken ct) =>
        db.WriteAsync(s => s.ExecuteAsync("DELETE FROM server_node WHERE id = @Id", new { node.Id }), ct);
}
