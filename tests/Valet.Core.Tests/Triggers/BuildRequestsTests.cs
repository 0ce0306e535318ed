using Valet.Core.Configuration;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Scm;
using Valet.Core.Triggers;
using Xunit;

namespace Valet.Core.Tests.Triggers;

public class BuildRequestsTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly Cause Remote = Cause.Remote("10.0.0.7", null);

    static readonly FreestyleJob WithParameters = new()
    {
        Parameters =
        [
            new() { Type = ParameterType.String, Name = "foo", Default = "d" },
            new() { Type = ParameterType.Choice, Name = "env", Choices = ["dev", "prod"] },
        ],
    };

    sealed class Fixture(TempStore store) : IAsyncDisposable
    {
        public TempStore Store => store;
        public BuildQueue Queue { get; } = new(store.Db, store.Secrets, store.Time);
        public BuildRequests Requests => new(Queue, new IdempotencyKeys(store.Db, store.Time), new ServerSettings { QuietPeriod = 5 }, store.Time, Polls);
        public PollRequests Polls { get; } = new(store.Db, Valet.Core.Execution.ServerNode.ForThisProcess("test"), store.Time);

        public Task<BuildOutcome> RequestAsync(Item job, ParameterInput? parameters = null, string? delay = null, IdempotencyKey? key = null, Cause? cause = null) =>
            Requests.RequestBuildAsync(new BuildRequest { Job = job, Cause = cause ?? Remote, Parameters = parameters ?? ParameterInput.Nothing, Delay = delay, Idempotency = key }, Ct);

        public static async Task<Fixture> OpenAsync(StoreEngine engine) => new(await TempStore.OpenAsync(engine));

        public ValueTask DisposeAsync() => store.DisposeAsync();
    }

    static ParameterInput Named(params (string Name, string Value)[] values) =>
        new ParameterInput.Named(name => values.Where(v => v.Name == name).Select(v => v.Value).ToList());

    [Fact]
    public async Task A_first_request_queues_an_item_due_after_the_server_quiet_period_and_a_second_folds_into_it()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("app");

        var first = Assert.IsType<BuildOutcome.Queued>(await f.RequestAsync(job));
        var second = Assert.IsType<BuildOutcome.Folded>(await f.RequestAsync(job, cause: Cause.Timer));

        Assert.Equal(first.QueueId, second.QueueId);
        var item = Assert.Single(await f.Queue.QueuedAsync(Ct));
        Assert.Equal(TempStore.Start.AddSeconds(5).ToUnixTimeMilliseconds(), item.DueAt);
        Assert.Equal([Remote, Cause.Timer], item.Causes);
    }

    [Fact]
    public async Task A_delay_sets_the_due_time_and_a_malformed_one_is_bad_input_naming_delay()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("app");

        var bad = Assert.IsType<BuildOutcome.BadInput>(await f.RequestAsync(job, delay: "soon"));
        Assert.Equal(BuildRequests.DelayParameter, bad.Parameter);
        Assert.Contains("'soon'", bad.Reason, StringComparison.Ordinal);
        Assert.Empty(await f.Queue.QueuedAsync(Ct));

        var queued = Assert.IsType<BuildOutcome.Queued>(await f.RequestAsync(job, delay: "30sec"));
        Assert.Equal(TempStore.Start.AddSeconds(30).ToUnixTimeMilliseconds(), (await f.Queue.FindAsync(queued.QueueId, Ct))!.DueAt);
    }

    [Fact]
    public async Task A_disabled_job_is_not_buildable_and_nothing_is_queued()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("off", new FreestyleJob { Disabled = true });

        Assert.Equal(new BuildOutcome.NotBuildable(NotBuildableReason.Disabled), await f.RequestAsync(job));
        Assert.Empty(await f.Queue.QueuedAsync(Ct));
    }

    [Fact]
    public async Task Values_for_a_job_without_parameters_and_none_for_a_job_with_them_are_the_wrong_endpoint()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var plain = await f.Store.CreateAsync("plain");
        var parameterized = await f.Store.CreateAsync("params", WithParameters);

        Assert.Equal(new BuildOutcome.WrongEndpoint(JobHasParameters: false), await f.RequestAsync(plain, Named(("foo", "x"))));
        Assert.Equal(new BuildOutcome.WrongEndpoint(JobHasParameters: true), await f.RequestAsync(parameterized));
        Assert.Empty(await f.Queue.QueuedAsync(Ct));
    }

    [Fact]
    public async Task Named_values_are_bound_with_defaults_for_the_unlisted_ones()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("params", WithParameters);

        var queued = Assert.IsType<BuildOutcome.Queued>(await f.RequestAsync(job, Named(("env", "prod"))));

        var values = (await f.Queue.FindAsync(queued.QueueId, Ct))!.Parameters!;
        Assert.Equal(["foo=d", "env=prod"], values.Select(v => $"{v.Name}={v.Value}"));
    }

    [Theory]
    [InlineData("foo", "parameter 'foo' was given 2 times")]
    [InlineData("env", "parameter 'env': 'qa' is not one of dev, prod")]
    public async Task A_bad_value_is_bad_input_naming_its_parameter(string parameter, string reason)
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("params", WithParameters);
        (string, string)[] sent = parameter == "foo" ? [("foo", "a"), ("foo", "b")] : [("env", "qa")];

        var outcome = await f.RequestAsync(job, Named(sent));

        Assert.Equal(new BuildOutcome.BadInput(parameter, reason), outcome);
        Assert.Empty(await f.Queue.QueuedAsync(Ct));
    }

    [Fact]
    public async Task Json_values_are_bound_and_an_unknown_name_is_bad_input_naming_it()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("params", WithParameters);

        var unknown = await f.RequestAsync(job, new ParameterInput.Json("""{"parameter":[{"name":"nope","value":"1"}]}"""));
        Assert.Equal(new BuildOutcome.BadInput("nope", "'params' has no parameter 'nope'"), unknown);
        var broken = Assert.IsType<BuildOutcome.BadInput>(await f.RequestAsync(job, new ParameterInput.Json("[1]")));
        Assert.Equal("json", broken.Parameter);
        Assert.Empty(await f.Queue.QueuedAsync(Ct));

        var queued = Assert.IsType<BuildOutcome.Queued>(await f.RequestAsync(job, new ParameterInput.Json("""{"parameter":{"name":"env","value":"prod"}}""")));
        Assert.Equal(["foo=d", "env=prod"], (await f.Queue.FindAsync(queued.QueueId, Ct))!.Parameters!.Select(v => $"{v.Name}={v.Value}"));
    }

    [Fact]
    public async Task A_repeated_idempotency_key_replays_the_first_outcome_and_changes_nothing()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("app");
        var key = new IdempotencyKey("build", "k1");

        var first = Assert.IsType<BuildOutcome.Queued>(await f.RequestAsync(job, key: key));
        var again = await f.RequestAsync(job, key: key, cause: Cause.Timer);
        var otherScope = await f.RequestAsync(job, key: key with { Scope = "buildWithParameters" });

        Assert.Equal(new BuildOutcome.Replayed(first), again);
        Assert.Equal(new BuildOutcome.Folded(first.QueueId), otherScope);
        Assert.Equal([Remote with { Count = 2 }], Assert.Single(await f.Queue.QueuedAsync(Ct)).Causes);
    }

    [Fact]
    public async Task A_replay_is_answered_before_the_job_is_checked_again()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("app");
        var key = new IdempotencyKey("build", "k1");
        var first = await f.RequestAsync(job, key: key);

        var disabled = job with { Definition = job.Job! with { Disabled = true } };

        Assert.Equal(new BuildOutcome.Replayed(first), await f.RequestAsync(disabled, key: key));
    }

    [Fact]
    public async Task Two_concurrent_first_uses_of_a_key_queue_one_item_and_the_other_replays_it()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("params", WithParameters);
        var key = new IdempotencyKey("buildWithParameters", "same");
        var (held, release) = await TempStore.HoldWriterAsync(f.Store.Db);
        // Different values: without the key they would be two items.
        var a = f.RequestAsync(job, Named(("foo", "a")), key: key);
        var b = f.RequestAsync(job, Named(("foo", "b")), key: key);
        release.SetResult();
        await held;

        var outcomes = new[] { await a, await b };
        var queued = Assert.Single(outcomes.OfType<BuildOutcome.Queued>());
        Assert.Equal(new BuildOutcome.Replayed(queued), Assert.Single(outcomes.OfType<BuildOutcome.Replayed>()));
        Assert.Single(await f.Queue.QueuedAsync(Ct));
    }

    [Fact]
    public async Task A_key_is_forgotten_after_a_day()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var job = await f.Store.CreateAsync("params", WithParameters);
        var key = new IdempotencyKey("buildWithParameters", "k");
        var first = Assert.IsType<BuildOutcome.Queued>(await f.RequestAsync(job, Named(("foo", "a")), key: key));

        f.Store.Time.Advance(IdempotencyKeys.Lifetime + TimeSpan.FromSeconds(1));

        var later = Assert.IsType<BuildOutcome.Queued>(await f.RequestAsync(job, Named(("foo", "b")), key: key));
        Assert.NotEqual(first.QueueId, later.QueueId);
    }

    [Fact]
    public async Task A_poll_needs_a_poll_scm_trigger_and_a_repeated_key_replays_it()
    {
        await using var f = await Fixture.OpenAsync(Engine);
        var plain = await f.Store.CreateAsync("plain");
        var polled = await f.Store.CreateAsync("polled", new FreestyleJob { Triggers = [new PollScmTrigger("")] });
        var key = new IdempotencyKey("polling", "p");

        Assert.Equal(new BuildOutcome.CannotPoll(), await f.Requests.RequestPollAsync(plain, key, Ct));
        Assert.Equal(new BuildOutcome.PollScheduled(), await f.Requests.RequestPollAsync(polled, key, Ct));
        Assert.Equal(new BuildOutcome.Replayed(new BuildOutcome.PollScheduled()), await f.Requests.RequestPollAsync(polled, key, Ct));
        Assert.Empty(await f.Queue.QueuedAsync(Ct));
    }
}

public sealed class BuildRequestsOnPostgresTests : BuildRequestsTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
