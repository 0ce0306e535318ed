using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Scm;
using Xunit;

namespace Valet.Core.Tests.Scm;

/// <summary>Polling requests of two servers on one store: they coalesce across servers, and a job is polled by one server at a time.</summary>
public class PollRequestsTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static async Task<PollRequests> ServerAsync(TempStore store)
    {
        var node = ServerNode.ForThisProcess("http://127.0.0.1:0");
        await new ServerNodes(store.Db).RegisterAsync(node, store.Time.GetUtcNow().ToUnixTimeMilliseconds(), Ct);
        return new PollRequests(store.Db, node, store.Time);
    }

    static Task<Item> JobAsync(TempStore store) => store.CreateAsync("app", new FreestyleJob { Triggers = [new PollScmTrigger("")] });

    [Fact]
    public async Task A_request_reaching_another_server_for_a_job_already_waiting_coalesces_into_one_polling_run()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await JobAsync(store);
        var a = await ServerAsync(store);
        var b = await ServerAsync(store);

        Assert.True(await a.RequestAsync(job.Id, Ct));
        Assert.False(await b.RequestAsync(job.Id, Ct));
        Assert.Equal(1, await a.PendingAsync(Ct));

        Assert.Equal(job.Id, await b.TryClaimAsync(Ct));
        Assert.Null(await a.TryClaimAsync(Ct));
        await b.DoneAsync(job.Id, Ct);

        Assert.Equal(0, await a.PendingAsync(Ct));
        Assert.Null(await a.TryClaimAsync(Ct));
        Assert.Null(await b.TryClaimAsync(Ct));
    }

    [Fact]
    public async Task Requests_on_both_servers_while_one_polls_make_exactly_one_more_run_after_it()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await JobAsync(store);
        var a = await ServerAsync(store);
        var b = await ServerAsync(store);
        Assert.True(await a.RequestAsync(job.Id, Ct));
        Assert.Equal(job.Id, await a.TryClaimAsync(Ct));

        Assert.True(await b.RequestAsync(job.Id, Ct));
        Assert.False(await a.RequestAsync(job.Id, Ct));
        Assert.False(await b.RequestAsync(job.Id, Ct));
        // Not while the first poll runs, on either server.
        Assert.Null(await b.TryClaimAsync(Ct));
        Assert.Null(await a.TryClaimAsync(Ct));

        await a.DoneAsync(job.Id, Ct);
        Assert.Equal(job.Id, await b.TryClaimAsync(Ct));
        await b.DoneAsync(job.Id, Ct);
        Assert.Equal(0, await a.PendingAsync(Ct));
    }

    [Fact]
    public async Task A_poll_claimed_by_a_server_whose_heartbeat_stopped_is_taken_over()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await JobAsync(store);
        var dead = await ServerAsync(store);
        var node = ServerNode.ForThisProcess("http://127.0.0.1:0");
        var nodes = new ServerNodes(store.Db);
        await nodes.RegisterAsync(node, store.Time.GetUtcNow().ToUnixTimeMilliseconds(), Ct);
        var live = new PollRequests(store.Db, node, store.Time);
        Assert.True(await dead.RequestAsync(job.Id, Ct));
        Assert.Equal(job.Id, await dead.TryClaimAsync(Ct));
        Assert.Null(await live.TryClaimAsync(Ct));

        store.Time.Advance(ServerHeartbeat.DeadAfter + TimeSpan.FromSeconds(1));
        await nodes.BeatAsync(node, store.Time.GetUtcNow().ToUnixTimeMilliseconds(), Ct);

        Assert.Equal(job.Id, await live.TryClaimAsync(Ct));
        await live.DoneAsync(job.Id, Ct);
        Assert.Equal(0, await live.PendingAsync(Ct));
    }
}

public sealed class PollRequestsOnPostgresTests : PollRequestsTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
