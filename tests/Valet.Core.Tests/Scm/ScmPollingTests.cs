using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Valet.Core.Configuration;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Scm;
using Valet.Core.Triggers;
using Xunit;

namespace Valet.Core.Tests.Scm;

/// <summary>Polling and git builds against real repositories, with real git processes and executors.</summary>
public class ScmPollingTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    const string ShowCheckout = "cat hello.txt\necho \"commit=$GIT_COMMIT previous=${GIT_PREVIOUS_COMMIT:-none} branch=$GIT_BRANCH url=$GIT_URL\"";

    sealed class Server : IAsyncDisposable
    {
        Server(TempStore store)
        {
            Store = store;
            Polls = new PollRequests(store.Db, ServerNode.ForThisProcess("test"), TimeProvider.System);
            var processes = new ProcessRunner(new ProcessGroups(store.Home, NullLogger<ProcessGroups>.Instance), NullLogger<ProcessRunner>.Instance);
            var git = new GitClient(processes, Options.Create(new ExecutorOptions()));
            Queue = new BuildQueue(store.Db, store.Secrets, TimeProvider.System);
            Builds = new BuildStore(store.Db, store.Secrets);
            Scm = new ScmStore(store.Db);
            Requests = new BuildRequests(Queue, new IdempotencyKeys(store.Db, TimeProvider.System), new ServerSettings { QuietPeriod = 0 },
                TimeProvider.System, Polls);
            Log = new PollingLog(store.Db, store.Home);
            Poller = new ScmPoller(Polls, store.Items, git, Scm, Requests, Log, store.Home, TimeProvider.System, NullLogger<ScmPoller>.Instance);
            Dispatcher = new BuildDispatcher(store.Db, store.Items, Queue, Builds, [new ShellStepRunner(processes)], store.Home,
                Options.Create(new ExecutorOptions { Count = 2, RootUrl = "http://valet.test/" }), TimeProvider.System,
                NullLogger<BuildDispatcher>.Instance, new GitCheckout(git, Scm));
        }

        public TempStore Store { get; }
        public BuildQueue Queue { get; }
        public BuildStore Builds { get; }
        public ScmStore Scm { get; }
        public PollRequests Polls { get; }
        public BuildRequests Requests { get; }
        public PollingLog Log { get; }
        public ScmPoller Poller { get; }
        public BuildDispatcher Dispatcher { get; }

        public static async Task<Server> StartAsync(StoreEngine engine, bool poller = true)
        {
            var server = new Server(await TempStore.OpenAsync(engine));
            await server.Dispatcher.StartAsync(Ct);
            if (poller)
                await server.Poller.StartAsync(Ct);
            return server;
        }

        public Task<Item> JobAsync(GitRepo repo, string name = "app") => Store.CreateAsync(name, new FreestyleJob
        {
            Steps = [ShowCheckout],
            Scm = new GitScm(repo.Url, "main"),
            Triggers = [new PollScmTrigger("")],
        });

        public async Task<string> PollingLogAsync(Item job)
        {
            using var text = new MemoryStream();
            await Log.CopyToAsync(job.Id, text, Ct);
            return System.Text.Encoding.UTF8.GetString(text.ToArray());
        }

        public static int Count(string text, string what) => text.Split(what).Length - 1;

        /// <summary>Asks for a poll and waits until every polling run has finished.</summary>
        public async Task PollAsync(Item job)
        {
            Assert.IsType<BuildOutcome.PollScheduled>(await Requests.RequestPollAsync(job, null, Ct));
            await IdleAsync();
        }

        public Task IdleAsync() => Until.HoldsAsync(async () => await Polls.PendingAsync(Ct) == 0, "polling to finish");

        public async Task<Build> FinishedAsync(Item job, long number)
        {
            Build? build = null;
            await Until.HoldsAsync(async () => (build = await Builds.GetAsync(job.Id, number, Ct)) is { Building: false }, $"{job.FullName} #{number} to finish");
            return build!;
        }

        public string Console(Item job, long number) => File.ReadAllText(Store.Home.BuildLog(job.Id, number));

        public async ValueTask DisposeAsync()
        {
            await Poller.StopAsync(CancellationToken.None);
            await Dispatcher.StopAsync(CancellationToken.None);
            Poller.Dispose();
            Dispatcher.Dispose();
            await Store.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_first_poll_of_a_job_that_never_built_builds_the_branch_head_with_the_git_variables()
    {
        using var repo = GitRepo.Create();
        var first = repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var server = await Server.StartAsync(Engine);
        var job = await server.JobAsync(repo);

        await server.PollAsync(job);

        var build = await server.FinishedAsync(job, 1);
        Assert.Equal(BuildResult.Success, build.Result);
        Assert.Equal(Cause.Scm, Assert.Single(build.Causes));
        var console = server.Console(job, 1);
        Assert.StartsWith("Started by an SCM change\n", console, StringComparison.Ordinal);
        Assert.Contains("hello one", console, StringComparison.Ordinal);
        Assert.Contains($"commit={first} previous=none branch=origin/main url={repo.Url}", console, StringComparison.Ordinal);
        var scm = await server.Scm.GetAsync(job.Id, 1, Ct);
        Assert.Equal(first, scm!.Revision);
        Assert.Empty(scm.ChangeSet);
        Assert.Contains("No build recorded yet", await server.PollingLogAsync(job), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_poll_of_an_unchanged_branch_builds_nothing()
    {
        using var repo = GitRepo.Create();
        var first = repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var server = await Server.StartAsync(Engine);
        var job = await server.JobAsync(repo);
        await server.PollAsync(job);
        await server.FinishedAsync(job, 1);

        await server.PollAsync(job);

        Assert.Contains($"No changes: main is still at {first}", await server.PollingLogAsync(job), StringComparison.Ordinal);
        Assert.DoesNotContain(await server.Queue.QueuedAsync(Ct), i => i.JobId == job.Id);
        Assert.Single(await server.Builds.ListAsync(job.Id, 10, Ct));
    }

    [Fact]
    public async Task A_new_commit_builds_its_content_and_lists_the_commit_in_the_change_set()
    {
        using var repo = GitRepo.Create();
        var first = repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var server = await Server.StartAsync(Engine);
        var job = await server.JobAsync(repo);
        await server.PollAsync(job);
        await server.FinishedAsync(job, 1);
        var second = repo.Commit("hello.txt", "hello two\n", "Say two\n\nWith a body.");

        await server.PollAsync(job);

        var build = await server.FinishedAsync(job, 2);
        Assert.Equal(BuildResult.Success, build.Result);
        var console = server.Console(job, 2);
        Assert.Contains("hello two", console, StringComparison.Ordinal);
        Assert.Contains($"commit={second} previous={first} branch=origin/main", console, StringComparison.Ordinal);
        Assert.Contains($"Changes found: {first} → {second}", await server.PollingLogAsync(job), StringComparison.Ordinal);
        var scm = await server.Scm.GetAsync(job.Id, 2, Ct);
        var change = Assert.Single(scm!.ChangeSet);
        Assert.Equal(second, change.CommitId);
        Assert.Equal("Ada Lovelace", change.Author);
        Assert.Equal("ada@example.com", change.AuthorEmail);
        Assert.Equal("Say two\n\nWith a body.", change.Message);
        Assert.Equal(first, scm.PreviousRevision);
    }

    [Fact]
    public async Task Two_quick_polling_requests_for_a_job_make_one_polling_run()
    {
        using var repo = GitRepo.Create();
        repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var server = await Server.StartAsync(Engine, poller: false);
        var job = await server.JobAsync(repo);

        Assert.IsType<BuildOutcome.PollScheduled>(await server.Requests.RequestPollAsync(job, null, Ct));
        Assert.IsType<BuildOutcome.PollScheduled>(await server.Requests.RequestPollAsync(job, null, Ct));
        await server.Poller.StartAsync(Ct);
        await server.IdleAsync();

        Assert.Equal(1, Server.Count(await server.PollingLogAsync(job), "Started on"));
        await server.FinishedAsync(job, 1);
        Assert.Single(await server.Builds.ListAsync(job.Id, 10, Ct));
    }

    [Fact]
    public async Task A_failed_checkout_fails_the_build_before_its_steps()
    {
        using var repo = GitRepo.Create();
        repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var server = await Server.StartAsync(Engine);
        var job = await server.Store.CreateAsync("app", new FreestyleJob { Steps = ["echo step ran"], Scm = new GitScm(repo.Url, "no-such-branch") });

        await server.Queue.EnqueueAsync(job, null, Cause.Timer, TimeProvider.System.GetUtcNow(), Ct);

        var build = await server.FinishedAsync(job, 1);
        Assert.Equal(BuildResult.Failure, build.Result);
        var console = server.Console(job, 1);
        Assert.Contains("Checkout of ", console, StringComparison.Ordinal);
        Assert.DoesNotContain("step ran\n", console, StringComparison.Ordinal);
        Assert.Null(await server.Scm.GetAsync(job.Id, 1, Ct));
    }

    [Fact]
    public async Task A_job_without_a_poll_scm_trigger_cannot_poll_and_nothing_is_polled()
    {
        using var repo = GitRepo.Create();
        repo.Commit("hello.txt", "hello one\n", "First commit");
        await using var server = await Server.StartAsync(Engine);
        var job = await server.Store.CreateAsync("app", new FreestyleJob { Scm = new GitScm(repo.Url, "main") });

        Assert.IsType<BuildOutcome.CannotPoll>(await server.Requests.RequestPollAsync(job, null, Ct));

        Assert.Equal(0, await server.Polls.PendingAsync(Ct));
        Assert.Equal("", await server.PollingLogAsync(job));
        Assert.DoesNotContain(await server.Queue.QueuedAsync(Ct), i => i.JobId == job.Id);
    }
}

public sealed class ScmPollingOnPostgresTests : ScmPollingTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
