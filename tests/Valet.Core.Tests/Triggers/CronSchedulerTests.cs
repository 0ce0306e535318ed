using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Valet.Core.Configuration;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Scm;
using Valet.Core.Triggers;
using Xunit;

namespace Valet.Core.Tests.Triggers;

/// <summary>The scheduler on a fake clock: time moves only when the test moves it.</summary>
public class CronSchedulerTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly FreestyleJob EveryMinute = new() { Triggers = [new CronTrigger("* * * * *")] };

    sealed class Fixture(TempStore store) : IAsyncDisposable
    {
        public TempStore Store => store;
        public BuildQueue Queue { get; } = new(store.Db, store.Secrets, store.Time);
        public PollRequests Polls { get; } = new();

        public CronScheduler Scheduler(TimeProvider time) => new(store.Db, store.Items,
            new BuildRequests(Queue, new IdempotencyKeys(store.Db, time), new ServerSettings { QuietPeriod = 0 }, time, Polls), time,
            NullLogger<CronScheduler>.Instance);

        public async Task<IReadOnlyList<QueueItem>> QueuedAsync(Item job) => (await Queue.QueuedAsync(Ct)).Where(i => i.JobId == job.Id).ToList();

        public static async Task<Fixture> OpenAsync(StoreEngine engine) => new(await TempStore.OpenAsync(engine));

        public ValueTask DisposeAsync() => store.DisposeAsync();
    }

    [Fact]
    public async Task An_every_minute_schedule_queues_a_build_started_by_timer_at_the_first_minute_after_start_up()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("nightly", EveryMinute);
        f.Store.Time.Advance(TimeSpan.FromSeconds(30));
        using var scheduler = f.Scheduler(f.Store.Time);
        await scheduler.StartAsync(Ct);
        Assert.Empty(await f.QueuedAsync(job));

        f.Store.Time.Advance(TimeSpan.FromSeconds(30));

        // The scheduler may arm its timer just after the clock moved (it measures the wait, then arms):
        // the clock is nudged on, never as far as the next minute, until the build is queued.
        var nudged = 0;
        await Until.HoldsAsync(async () =>
        {
            if ((await f.QueuedAsync(job)).Count == 1)
                return true;
            if (nudged++ < 45)
                f.Store.Time.Advance(TimeSpan.FromSeconds(1));
            return false;
        }, "a timer build to be queued");
        var item = Assert.Single(await f.QueuedAsync(job));
        Assert.Equal(Cause.Timer, Assert.Single(item.Causes));
        Assert.Equal("Started by timer", item.Causes[0].ShortDescription);
        await scheduler.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_minute_already_fired_is_not_fired_again_after_a_restart_or_by_another_server()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("nightly", EveryMinute);
        var minute = TempStore.Start.AddMinutes(1);
        await f.Scheduler(f.Store.Time).TickAsync(minute, Ct);
        Assert.Single(await f.QueuedAsync(job));

        await f.Store.ReopenAsync();
        var restarted = new Fixture(f.Store);
        await restarted.Scheduler(new FakeTimeProvider(minute)).TickAsync(minute, Ct);

        var item = Assert.Single(await restarted.QueuedAsync(job));
        Assert.Equal(1, Assert.Single(item.Causes).Count);
    }

    [Fact]
    public async Task Only_schedules_matching_the_minute_fire_and_disabled_jobs_never()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var hourly = await f.Store.CreateAsync("hourly", new FreestyleJob { Triggers = [new CronTrigger("0 * * * *")] });
        var disabled = await f.Store.CreateAsync("off", EveryMinute with { Disabled = true });
        var scheduler = f.Scheduler(f.Store.Time);

        await scheduler.TickAsync(TempStore.Start.AddMinutes(1), Ct);
        Assert.Empty(await f.QueuedAsync(hourly));

        await scheduler.TickAsync(TempStore.Start.AddHours(1), Ct);
        Assert.Single(await f.QueuedAsync(hourly));
        Assert.Empty(await f.QueuedAsync(disabled));
    }

    [Fact]
    public async Task A_poll_scm_schedule_asks_for_a_polling_run_instead_of_a_build()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("polled", new FreestyleJob { Triggers = [new PollScmTrigger("*/5 * * * *")] });

        await f.Scheduler(f.Store.Time).TickAsync(TempStore.Start.AddMinutes(5), Ct);

        Assert.Equal(1, f.Polls.Pending);
        Assert.Empty(await f.QueuedAsync(job));
    }
}

public sealed class CronSchedulerOnPostgresTests : CronSchedulerTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
