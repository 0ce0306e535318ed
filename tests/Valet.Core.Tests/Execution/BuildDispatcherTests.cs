using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Xunit;

namespace Valet.Core.Tests.Execution;

public class BuildDispatcherTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly Cause ByAlice = Cause.User("alice", "Alice");

    static readonly FreestyleJob Slow = new() { Steps = ["echo started\nsleep 300"] };

    /// <summary>A dispatcher with real processes on a temp store. The clock is the real one: builds take real time.</summary>
    sealed class Executors : IAsyncDisposable
    {
        Executors(TempStore store, int count)
        {
            Store = store;
            Queue = new BuildQueue(store.Db, store.Secrets, TimeProvider.System);
            Builds = new BuildStore(store.Db, store.Secrets);
            Dispatcher = new BuildDispatcher(store.Db, store.Items, Queue, Builds,
                [new ShellStepRunner(new ProcessRunner(new ProcessGroups(store.Home, NullLogger<ProcessGroups>.Instance), NullLogger<ProcessRunner>.Instance))], store.Home,
                Options.Create(new ExecutorOptions { Count = count, RootUrl = "http://valet.test/" }), TimeProvider.System,
                NullLogger<BuildDispatcher>.Instance, node: Node);
            Heartbeat = new ServerHeartbeat(store.Db, Node, new ServerNodes(store.Db), Dispatcher, store.Home, TimeProvider.System,
                NullLogger<ServerHeartbeat>.Instance);
        }

        public ServerNode Node { get; } = ServerNode.ForThisProcess("http://valet.test/");
        public ServerHeartbeat Heartbeat { get; }

        public TempStore Store { get; }
        public BuildQueue Queue { get; }
        public BuildStore Builds { get; }
        public BuildDispatcher Dispatcher { get; }

        public static async Task<Executors> StartAsync(TempStore store, int count = 2)
        {
            var executors = new Executors(store, count);
            await executors.Heartbeat.StartAsync(Ct);
            await executors.Dispatcher.StartAsync(Ct);
            return executors;
        }

        public Task<EnqueueResult> EnqueueAsync(Item job, IReadOnlyList<ParameterValue>? values = null) =>
            Queue.EnqueueAsync(job, values, ByAlice, TimeProvider.System.GetUtcNow(), Ct);

        public string Console(Item job, long number) =>
            File.Exists(Store.Home.BuildLog(job.Id, number)) ? File.ReadAllText(Store.Home.BuildLog(job.Id, number)) : "";

        public Task WhenConsoleHasAsync(Item job, long number, string text) =>
            Until.HoldsAsync(() => Task.FromResult(Console(job, number).Contains(text, StringComparison.Ordinal)), $"'{text}' in {job.FullName} #{number}");

        public async Task<Build> FinishedAsync(Item job, long number)
        {
            Build? build = null;
            await Until.HoldsAsync(async () => (build = await Builds.GetAsync(job.Id, number, Ct)) is { Building: false }, $"{job.FullName} #{number} to finish");
            return build!;
        }

        public Task<long> SlotsAsync() => Store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM job_build_slot"), Ct);

        public async ValueTask DisposeAsync()
        {
            await Dispatcher.StopAsync(CancellationToken.None);
            Dispatcher.Dispose();
            await Heartbeat.StopAsync(CancellationToken.None);
            Heartbeat.Dispose();
        }
    }

    [Fact]
    public async Task A_build_writes_its_causes_first_then_runs_its_steps_in_its_workspace_and_frees_its_job()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("team/hello", new FreestyleJob { Steps = ["echo \"hello from $JOB_NAME #$BUILD_NUMBER at $BUILD_URL\""] });
        await using var executors = await Executors.StartAsync(store);
        var (queueId, _) = await executors.EnqueueAsync(job);

        var build = await executors.FinishedAsync(job, 1);
        Assert.Equal(BuildResult.Success, build.Result);
        Assert.Equal(queueId, build.QueueId);
        var lines = executors.Console(job, 1).Split('\n');
        Assert.Equal("Started by user Alice", lines[0]);
        Assert.Equal($"Building in workspace {store.Home.Workspace("team/hello", 1)}", lines[1]);
        Assert.Contains("hello from team/hello #1 at http://valet.test/job/team/job/hello/1/", lines);
        Assert.Equal("Finished: SUCCESS", lines[^2]);
        var item = (await executors.Queue.FindAsync(queueId, Ct))!;
        Assert.Equal((QueueState.Left, 1L), (item.State, item.BuildNumber));
        Assert.Equal(0, await executors.SlotsAsync());
    }

    [Fact]
    public async Task An_abort_recorded_in_the_store_by_another_process_stops_the_build_running_here()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("slow", Slow);
        await using var executors = await Executors.StartAsync(store);
        await executors.EnqueueAsync(job);
        await executors.WhenConsoleHasAsync(job, 1, "started\n");
        Assert.Equal(1, await executors.SlotsAsync());

        // Straight to the row, as a server that does not run the build records it.
        Assert.Equal("someone elsewhere", await executors.Builds.RequestAbortAsync(job.Id, 1, "someone elsewhere", Ct));

        var build = await executors.FinishedAsync(job, 1);
        Assert.Equal(BuildResult.Aborted, build.Result);
        Assert.EndsWith("Aborted by someone elsewhere\nFinished: ABORTED\n", executors.Console(job, 1), StringComparison.Ordinal);
        Assert.Equal(0, await executors.SlotsAsync());
    }

    [Fact]
    public async Task An_abort_is_recorded_on_the_build_and_the_console_names_the_first_to_ask()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("slow", Slow);
        await using var executors = await Executors.StartAsync(store);
        await executors.EnqueueAsync(job);
        await executors.WhenConsoleHasAsync(job, 1, "started\n");

        Assert.True(await executors.Dispatcher.AbortAsync(job.Id, 1, "Alice", Ct));
        await executors.Dispatcher.AbortAsync(job.Id, 1, "Bob", Ct);

        Assert.Equal(BuildResult.Aborted, (await executors.FinishedAsync(job, 1)).Result);
        Assert.Contains("Aborted by Alice\n", executors.Console(job, 1), StringComparison.Ordinal);
        Assert.Equal("Alice", await store.Db.ReadAsync(s => s.ExecuteScalarAsync<string>(
            "SELECT abort_requested_by FROM build WHERE job_id = @Id AND number = 1", new { job.Id }), Ct));
        Assert.False(await executors.Dispatcher.AbortAsync(job.Id, 1, "Carol", Ct));
    }

    [Fact]
    public async Task Aborting_all_builds_of_jobs_returns_once_they_have_stopped()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var doomed = await store.CreateAsync("doomed", Slow);
        var other = await store.CreateAsync("other", Slow);
        await using var executors = await Executors.StartAsync(store);
        await executors.EnqueueAsync(doomed);
        await executors.EnqueueAsync(other);
        await executors.WhenConsoleHasAsync(doomed, 1, "started\n");
        await executors.WhenConsoleHasAsync(other, 1, "started\n");

        await executors.Dispatcher.AbortAllAsync(new HashSet<long> { doomed.Id }, "Alice", Ct);

        var stopped = (await executors.Builds.GetAsync(doomed.Id, 1, Ct))!;
        Assert.Equal((false, BuildResult.Aborted), (stopped.Building, stopped.Result));
        Assert.EndsWith("Aborted by Alice\nFinished: ABORTED\n", executors.Console(doomed, 1), StringComparison.Ordinal);
        Assert.True((await executors.Builds.GetAsync(other.Id, 1, Ct))!.Building);
    }

    [Fact]
    public async Task A_job_that_does_not_build_concurrently_starts_its_next_build_only_after_the_running_one_ends()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("serial", new FreestyleJob
        {
            Parameters = [new() { Type = ParameterType.String, Name = "P" }],
            Steps = ["echo \"run $P\"\ntest \"$P\" = second || sleep 300"],
        });
        await using var executors = await Executors.StartAsync(store, count: 2);
        await executors.EnqueueAsync(job, [new("P", ParameterType.String, "first")]);
        await executors.WhenConsoleHasAsync(job, 1, "run first\n");
        var (second, folded) = await executors.EnqueueAsync(job, [new("P", ParameterType.String, "second")]);
        Assert.False(folded);

        await executors.Dispatcher.AbortAsync(job.Id, 1, "Alice", Ct);

        var first = await executors.FinishedAsync(job, 1);
        var next = await executors.FinishedAsync(job, 2);
        Assert.Equal((BuildResult.Aborted, BuildResult.Success, second), (first.Result, next.Result, next.QueueId));
        Assert.True(next.StartedAt >= first.StartedAt + first.Duration, "the second build started after the first ended");
    }

    [Fact]
    public async Task A_concurrent_job_runs_its_builds_side_by_side_in_workspaces_of_their_own()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("parallel", Slow with { Concurrent = true, Parameters = [new() { Type = ParameterType.String, Name = "P" }] });
        await using var executors = await Executors.StartAsync(store, count: 2);
        await executors.EnqueueAsync(job, [new("P", ParameterType.String, "a")]);
        await executors.EnqueueAsync(job, [new("P", ParameterType.String, "b")]);

        await executors.WhenConsoleHasAsync(job, 1, "started\n");
        await executors.WhenConsoleHasAsync(job, 2, "started\n");
        var workspaces = new[] { (await executors.Builds.GetAsync(job.Id, 1, Ct))!.Workspace, (await executors.Builds.GetAsync(job.Id, 2, Ct))!.Workspace };
        Assert.Equal([store.Home.Workspace("parallel", 1), store.Home.Workspace("parallel", 2)], workspaces.Order());
        Assert.Equal(0, await executors.SlotsAsync());
    }

    [Fact]
    public async Task Builds_found_running_at_start_are_recorded_aborted_and_free_their_job_for_the_next_build()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("serial", new FreestyleJob { Steps = ["echo next"] });
        var builds = new BuildStore(store.Db, store.Secrets);
        // What a crash leaves: a running build holding its job's slot, and an item queued behind it.
        var crashed = await store.Db.WriteAsync(async s =>
        {
            var number = await store.Items.TakeBuildNumberAsync(s, job.Id);
            var build = await builds.StartAsync(s, new QueueItem(0, job.Id, QueueState.Left, 0, 0, null, [ByAlice], number, 0), number, 1,
                store.Home.Workspace("serial", 1), "built-in", "crashed-server", TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds());
            Assert.True(await BuildStore.TakeSlotAsync(s, build));
            return build;
        }, Ct);
        Assert.NotNull(await builds.MarkStartedAsync(crashed, TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds(), Ct));
        await new BuildQueue(store.Db, store.Secrets, TimeProvider.System).EnqueueAsync(job, null, ByAlice, TimeProvider.System.GetUtcNow(), Ct);

        await using var executors = await Executors.StartAsync(store);

        var ended = (await builds.GetAsync(job.Id, 1, Ct))!;
        Assert.Equal((false, BuildResult.Aborted), (ended.Building, ended.Result));
        // On a shared store the build's server, which has no heartbeat row, is a dead one.
        Assert.EndsWith(Engine == StoreEngine.Sqlite ? "the server stopped while this build was running.\nFinished: ABORTED\n"
            : "the server running it stopped answering\nFinished: ABORTED\n", executors.Console(job, 1), StringComparison.Ordinal);
        Assert.Equal(BuildResult.Success, (await executors.FinishedAsync(job, 2)).Result);
    }

    [Fact]
    public async Task Stopping_the_dispatcher_aborts_its_running_builds_and_records_them()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("slow", Slow);
        var executors = await Executors.StartAsync(store);
        await executors.EnqueueAsync(job);
        await executors.WhenConsoleHasAsync(job, 1, "started\n");

        await executors.DisposeAsync();

        var build = (await executors.Builds.GetAsync(job.Id, 1, Ct))!;
        Assert.Equal((false, BuildResult.Aborted), (build.Building, build.Result));
        Assert.EndsWith("Aborted by the server shutting down\nFinished: ABORTED\n", executors.Console(job, 1), StringComparison.Ordinal);
        Assert.Equal(0, await executors.SlotsAsync());
    }
}

public sealed class BuildDispatcherOnPostgresTests : BuildDispatcherTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
