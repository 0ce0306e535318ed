using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Xunit;

namespace Valet.Core.Tests.Execution;

/// <summary>
/// Heartbeats and dead servers on a fake clock: several servers are several <see cref="ServerNode"/>s
/// on one store, each with its own heartbeat, whose ticks the tests run by hand. Claims are made as the
/// dispatcher makes them, so no process runs: what a crash leaves is rows.
/// </summary>
public class ServerHeartbeatTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly TimeSpan Silent = ServerHeartbeat.DeadAfter + TimeSpan.FromSeconds(1);

    const string DeadLine = "Build aborted: the server running it stopped answering\nFinished: ABORTED\n";

    sealed class Server
    {
        public Server(TempStore store, string name)
        {
            Node = new ServerNode { Id = name, Host = "test", Pid = 1, Urls = "http://valet.test/" };
            Queue = new BuildQueue(store.Db, store.Secrets, store.Time);
            Builds = new BuildStore(store.Db, store.Secrets);
            var dispatcher = new BuildDispatcher(store.Db, store.Items, Queue, Builds, [], store.Home,
                Options.Create(new ExecutorOptions { Count = 1 }), store.Time, NullLogger<BuildDispatcher>.Instance, node: Node);
            Heartbeat = new ServerHeartbeat(store.Db, Node, new ServerNodes(store.Db), dispatcher, store.Home, store.Time,
                NullLogger<ServerHeartbeat>.Instance);
            Store = store;
        }

        public TempStore Store { get; }
        public ServerNode Node { get; }
        public BuildQueue Queue { get; }
        public BuildStore Builds { get; }
        public ServerHeartbeat Heartbeat { get; }

        /// <summary>The dispatcher's claim: the item, a build number, the build row 'starting' and the job's slot, in one write.</summary>
        public Task<Build> ClaimAsync() => Store.Db.WriteAsync(async s =>
        {
            var now = Store.Time.GetUtcNow().ToUnixTimeMilliseconds();
            var item = await Queue.ClaimAsync(s, "built-in", now) ?? throw new InvalidOperationException("nothing to claim");
            var number = await Store.Items.TakeBuildNumberAsync(s, item.JobId);
            var build = await Builds.StartAsync(s, item, number, 1, Store.Home.Workspace("ws", (int)number), "built-in", Node.Id, now);
            Assert.True(await BuildStore.TakeSlotAsync(s, build));
            await Queue.MarkLeftAsync(s, item.Id, number, "built-in", now);
            return build;
        }, Ct);

        public async Task<Build> ClaimAndStartAsync()
        {
            var build = await ClaimAsync();
            Assert.NotNull(await Builds.MarkStartedAsync(build, Store.Time.GetUtcNow().ToUnixTimeMilliseconds(), Ct));
            return build;
        }
    }

    /// <summary>A server beside the others; <see cref="ServerHeartbeat.JoinAsync"/> would be a restart of SQLite's one server.</summary>
    static async Task<Server> JoinAsync(TempStore store, string name)
    {
        var server = new Server(store, name);
        await new ServerNodes(store.Db).RegisterAsync(server.Node, store.Time.GetUtcNow().ToUnixTimeMilliseconds(), Ct);
        return server;
    }

    static async Task<long> EnqueueAsync(TempStore store, Item job) =>
        (await new BuildQueue(store.Db, store.Secrets, store.Time).EnqueueAsync(job, null, Cause.User("alice", "Alice"), store.Time.GetUtcNow(), Ct)).Id;

    static string Console(TempStore store, Build build) =>
        File.Exists(store.Home.BuildLog(build.JobId, build.Number)) ? File.ReadAllText(store.Home.BuildLog(build.JobId, build.Number)) : "";

    static Task<long> CountAsync(TempStore store, string sql) => store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>(sql), Ct);

    [Fact]
    public async Task A_server_silent_for_30_seconds_is_dead_its_started_build_is_aborted_and_its_claimed_item_queued_again()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var slow = await store.CreateAsync("slow");
        var next = await store.CreateAsync("next");
        var a = await JoinAsync(store, "a");
        var b = await JoinAsync(store, "b");
        await EnqueueAsync(store, slow);
        var nextItem = await EnqueueAsync(store, next);
        var started = await a.ClaimAndStartAsync();
        var claimed = await a.ClaimAsync();
        Assert.True((await b.Builds.GetAsync(next.Id, 1, Ct))!.Building);

        store.Time.Advance(ServerHeartbeat.DeadAfter - TimeSpan.FromSeconds(1));
        await b.Heartbeat.TickAsync(Ct);
        Assert.True((await b.Builds.GetAsync(slow.Id, 1, Ct))!.Building);
        Assert.Equal(QueueState.Left, (await b.Queue.FindAsync(nextItem, Ct))!.State);

        store.Time.Advance(TimeSpan.FromSeconds(2));
        await b.Heartbeat.TickAsync(Ct);

        var aborted = (await b.Builds.GetAsync(slow.Id, 1, Ct))!;
        Assert.Equal((false, BuildResult.Aborted), (aborted.Building, aborted.Result));
        Assert.EndsWith(DeadLine, Console(store, started), StringComparison.Ordinal);
        var requeued = (await b.Queue.FindAsync(nextItem, Ct))!;
        Assert.Equal((QueueState.Queued, (long?)null), (requeued.State, requeued.BuildNumber));
        Assert.Null(await b.Builds.GetAsync(next.Id, 1, Ct));
        Assert.Equal(0, await CountAsync(store, "SELECT COUNT(*) FROM job_build_slot"));
        Assert.Equal(0, await CountAsync(store, "SELECT COUNT(*) FROM server_node WHERE id = 'a'"));

        // The dead server's late word counts for nothing.
        Assert.False(await a.Builds.FinishAsync(started, BuildResult.Success, store.Time.GetUtcNow().ToUnixTimeMilliseconds(), Ct));
        Assert.Equal(BuildResult.Aborted, (await b.Builds.GetAsync(slow.Id, 1, Ct))!.Result);
        Assert.Null(await a.Builds.MarkStartedAsync(claimed, 0, Ct));

        // The item is built again under its id, with a new number: #1 is not reused.
        var again = await b.ClaimAsync();
        Assert.Equal((nextItem, 2L), (again.QueueId, again.Number));
    }

    [Fact]
    public async Task A_server_that_keeps_beating_is_never_dead()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var slow = await store.CreateAsync("slow");
        var a = await JoinAsync(store, "a");
        var b = await JoinAsync(store, "b");
        await EnqueueAsync(store, slow);
        await a.ClaimAndStartAsync();

        for (var i = 0; i < 6; i++)
        {
            store.Time.Advance(ServerHeartbeat.Interval);
            await a.Heartbeat.TickAsync(Ct);
            await b.Heartbeat.TickAsync(Ct);
        }

        Assert.True((await b.Builds.GetAsync(slow.Id, 1, Ct))!.Building);
        Assert.Equal(2, await CountAsync(store, "SELECT COUNT(*) FROM server_node"));
    }

    [Fact]
    public async Task Two_servers_ending_one_dead_server_at_once_end_each_of_its_builds_once()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var slow = await store.CreateAsync("slow");
        var next = await store.CreateAsync("next");
        var a = await JoinAsync(store, "a");
        var b = await JoinAsync(store, "b");
        var c = await JoinAsync(store, "c");
        await EnqueueAsync(store, slow);
        var nextItem = await EnqueueAsync(store, next);
        var started = await a.ClaimAndStartAsync();
        await a.ClaimAsync();

        store.Time.Advance(Silent);
        await Task.WhenAll(b.Heartbeat.TickAsync(Ct), c.Heartbeat.TickAsync(Ct));

        Assert.Equal(BuildResult.Aborted, (await b.Builds.GetAsync(slow.Id, 1, Ct))!.Result);
        Assert.Equal(DeadLine, Console(store, started));
        Assert.Equal(1, await CountAsync(store, "SELECT COUNT(*) FROM queue_item WHERE state = 'queued'"));
        Assert.Equal(nextItem, (await b.ClaimAsync()).QueueId);
    }

    [Fact]
    public async Task A_server_found_dead_stops_its_builds_and_beats_again_as_a_live_server()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var a = await JoinAsync(store, "a");
        var b = await JoinAsync(store, "b");

        store.Time.Advance(Silent);
        await b.Heartbeat.TickAsync(Ct);
        Assert.Equal(0, await CountAsync(store, "SELECT COUNT(*) FROM server_node WHERE id = 'a'"));

        await a.Heartbeat.TickAsync(Ct);

        Assert.True(a.Node.CanClaim);
        Assert.Equal(1, await CountAsync(store, "SELECT COUNT(*) FROM server_node WHERE id = 'a'"));
    }

    [Fact]
    public async Task A_server_that_cannot_write_its_heartbeat_stops_claiming()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var a = await JoinAsync(store, "a");
        Assert.True(a.Node.CanClaim);

        // A heartbeat that cannot be written, as when the store is unreachable.
        await store.Db.WriteAsync(s => s.ExecuteAsync("DROP TABLE server_node"), Ct);
        store.Time.Advance(ServerHeartbeat.Interval);
        await a.Heartbeat.TickAsync(Ct);

        Assert.False(a.Node.CanClaim);
    }

    [Fact]
    public async Task After_a_crash_a_claimed_but_unstarted_item_is_queued_again_with_its_id_and_a_started_build_is_aborted()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var slow = await store.CreateAsync("slow");
        var next = await store.CreateAsync("next");
        var before = await JoinAsync(store, "before-the-crash");
        await EnqueueAsync(store, slow);
        var nextItem = await EnqueueAsync(store, next);
        var started = await before.ClaimAndStartAsync();
        await before.ClaimAsync();

        await store.ReopenAsync();
        var after = new Server(store, "after-the-crash");
        await after.Heartbeat.JoinAsync(Ct);
        if (Engine == StoreEngine.Postgres)
        {
            // Another incarnation is another server: its work ends once it has been silent long enough.
            Assert.Equal(QueueState.Left, (await after.Queue.FindAsync(nextItem, Ct))!.State);
            store.Time.Advance(Silent);
            await after.Heartbeat.TickAsync(Ct);
        }

        Assert.Equal(BuildResult.Aborted, (await after.Builds.GetAsync(slow.Id, 1, Ct))!.Result);
        Assert.EndsWith(Engine == StoreEngine.Sqlite ? "Build aborted: the server stopped while this build was running.\nFinished: ABORTED\n" : DeadLine,
            Console(store, started), StringComparison.Ordinal);
        Assert.Equal(QueueState.Queued, (await after.Queue.FindAsync(nextItem, Ct))!.State);
        Assert.Null(await after.Builds.GetAsync(next.Id, 1, Ct));
        var again = await after.ClaimAsync();
        Assert.Equal((nextItem, next.Id, 2L), (again.QueueId, again.JobId, again.Number));
    }

    [Fact]
    public async Task An_item_queued_again_beside_a_newer_item_of_its_kind_keeps_its_id_and_both_are_built()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("job");
        var a = await JoinAsync(store, "a");
        var b = await JoinAsync(store, "b");
        var first = await EnqueueAsync(store, job);
        await a.ClaimAsync();
        var second = await EnqueueAsync(store, job);
        Assert.NotEqual(first, second);

        store.Time.Advance(Silent);
        await b.Heartbeat.TickAsync(Ct);

        Assert.Equal(2, await CountAsync(store, "SELECT COUNT(*) FROM queue_item WHERE state = 'queued'"));
        // Later requests fold into the newer item; the one that came back is built on its own.
        Assert.Equal(second, await EnqueueAsync(store, job));
        Assert.Equal(first, (await b.ClaimAsync()).QueueId);
        await b.Builds.FinishAsync((await b.Builds.GetAsync(job.Id, 2, Ct))!, BuildResult.Success, 0, Ct);
        Assert.Equal(second, (await b.ClaimAsync()).QueueId);
    }
}

public sealed class ServerHeartbeatOnPostgresTests : ServerHeartbeatTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
