using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Storage;

namespace Valet.Core.Triggers;

/// <summary>
/// Fires jobs' `cron` (a build, "Started by timer") and `pollScm` (a polling run) schedules a moment
/// after each matching minute begins (read in the clock's local zone or the spec's `TZ=`), from the first whole minute after start-up. Each job's minute is
/// claimed by inserting its row in schedule_tick, and only the insert that succeeds fires: a restart,
/// a clock set back, or another server on the same database never fires a minute twice.
/// </summary>
public sealed partial class CronScheduler(Database db, ItemStore items, BuildRequests builds, TimeProvider time, ILogger<CronScheduler> logger)
    : BackgroundService
{
    // Claims older than this are history: no clock is set back that far.
    static readonly TimeSpan KeepTicks = TimeSpan.FromDays(2);

    readonly ConcurrentDictionary<(string Job, string Spec), JenkinsCron?> parsed = new();

    static DateTimeOffset Floor(DateTimeOffset t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero);

    DateTimeOffset startedAt;

    // Start-up is when the host starts the service: ExecuteAsync may begin later, on another thread.
    public override Task StartAsync(CancellationToken ct)
    {
        startedAt = time.GetUtcNow();
        return base.StartAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var minute = Floor(startedAt.ToUniversalTime());
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                minute = minute.AddMinutes(1);
                var wait = minute - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                    await Task.Delay(wait, time, stopping);
                try
                {
                    await TickAsync(minute, stopping);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.TickFailed(logger, e, minute);
                }
                // Minutes missed while the process stood still are skipped, not fired late in a burst.
                var now = Floor(time.GetUtcNow().ToUniversalTime());
                if (now > minute)
                    minute = now.AddMinutes(-1);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Fires every schedule that matches <paramref name="minute"/> and whose minute this process claims.</summary>
    public async Task TickAsync(DateTimeOffset minute, CancellationToken ct)
    {
        var due = new List<(Item Job, TriggerDefinition Trigger)>();
        foreach (var item in await items.AllAsync(ct))
        {
            if (item.Job is not { Disabled: false } job)
                continue;
            foreach (var trigger in job.Triggers)
            {
                var spec = trigger switch { CronTrigger c => c.Spec, PollScmTrigger p => p.Spec, _ => null };
                if (spec is not null && Cron(item.FullName, spec) is { } cron && cron.Matches(minute))
                    due.Add((item, trigger));
            }
        }
        var at = minute.ToUnixTimeMilliseconds();
        var claimed = due.Count == 0 ? [] : await db.WriteAsync(async s =>
        {
            var won = new List<(Item Job, TriggerDefinition Trigger)>();
            foreach (var d in due)
            {
                if (await s.ExecuteAsync(
                    "INSERT INTO schedule_tick (job_id, trigger_kind, minute) VALUES (@Id, @kind, @at) ON CONFLICT DO NOTHING",
                    new { d.Job.Id, kind = Kind(d.Trigger), at }) == 1)
                    won.Add(d);
            }
            await s.ExecuteAsync("DELETE FROM schedule_tick WHERE minute < @old", new { old = at - (long)KeepTicks.TotalMilliseconds });
            return won;
        }, ct);
        foreach (var (job, trigger) in claimed)
        {
            var outcome = trigger is CronTrigger
                ? await builds.RequestBuildAsync(new BuildRequest { Job = job, Cause = Cause.Timer }, ct)
                : await builds.RequestPollAsync(job, null, ct);
            Log.Fired(logger, job.FullName, Kind(trigger), minute, outcome.GetType().Name);
        }
    }

    static string Kind(TriggerDefinition trigger) => trigger is CronTrigger ? "cron" : "pollScm";

    // Specs were validated with the configuration; one that still fails to parse never fires.
    JenkinsCron? Cron(string job, string spec) =>
        parsed.GetOrAdd((job, spec), key => JenkinsCron.TryParse(key.Spec, key.Job, time.LocalTimeZone, out _) is { IsEmpty: false } c ? c : null);

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {Kind} of {Job} fired for {Minute:u}: {Outcome}")]
        public static partial void Fired(ILogger logger, string job, string kind, DateTimeOffset minute, string outcome);

        [LoggerMessage(Level = LogLevel.Error, Message = "Firing the schedules of {Minute:u} failed")]
        public static partial void TickFailed(ILogger logger, Exception e, DateTimeOffset minute);
    }
}
