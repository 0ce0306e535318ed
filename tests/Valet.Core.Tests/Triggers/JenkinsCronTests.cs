using Microsoft.Extensions.Time.Testing;
using Valet.Core.Triggers;
using Xunit;

namespace Valet.Core.Tests.Triggers;

public sealed class JenkinsCronTests
{
    static readonly DateTimeOffset Monday = new(2026, 1, 5, 10, 17, 30, TimeSpan.Zero);

    static DateTimeOffset At(int month, int day, int hour, int minute) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("* * * * *", "2026-01-05T10:18")]
    [InlineData("*/15 * * * *", "2026-01-05T10:30")]
    [InlineData("5,20-22 * * * *", "2026-01-05T10:20")]
    [InlineData("0 12 * * *", "2026-01-05T12:00")]
    [InlineData("0 9 * * 0", "2026-01-11T09:00")]
    [InlineData("0 9 * * 7", "2026-01-11T09:00")]
    [InlineData("0 0 1 3 *", "2026-03-01T00:00")]
    [InlineData("30 8-17/4 * * 1-5", "2026-01-05T12:30")]
    [InlineData("10/20 * * * *", "2026-01-05T10:30")]
    public void Next_fire_is_the_first_matching_minute_after_now(string spec, string expected)
    {
        var cron = JenkinsCron.Parse(spec, "job");
        Assert.Equal(DateTimeOffset.Parse(expected + ":00Z", System.Globalization.CultureInfo.InvariantCulture), cron.Next(Monday));
    }

    [Fact]
    public void Several_lines_and_comments_fire_on_any_line()
    {
        var cron = JenkinsCron.Parse("# nightly and at noon\n\n0 0 * * *\n0 12 * * *  \n", "job");
        Assert.Equal(At(1, 5, 12, 0), cron.Next(Monday));
        Assert.Equal(At(1, 6, 0, 0), cron.Next(At(1, 5, 12, 0)));
    }

    [Fact]
    public void H_is_the_same_minute_for_the_same_job_every_time_and_spread_across_jobs()
    {
        var minutes = Enumerable.Range(0, 40).Select(i => JenkinsCron.Parse("H * * * *", $"job-{i}").Next(Monday)!.Value.Minute).ToList();
        Assert.Equal(minutes, Enumerable.Range(0, 40).Select(i => JenkinsCron.Parse("H * * * *", $"job-{i}").Next(Monday)!.Value.Minute));
        Assert.True(minutes.Distinct().Count() > 15, $"40 jobs share {minutes.Distinct().Count()} minutes");
    }

    [Fact]
    public void H_with_a_range_and_a_step_stays_inside_the_range_at_the_step()
    {
        for (var i = 0; i < 30; i++)
        {
            var cron = JenkinsCron.Parse("H(0-29)/10 * * * *", $"job-{i}");
            var first = cron.Next(At(1, 5, 10, 59))!.Value;
            Assert.Equal(11, first.Hour);
            Assert.InRange(first.Minute, 0, 9);
            Assert.Equal(first.AddMinutes(10), cron.Next(first));
            Assert.Equal(first.AddMinutes(20), cron.Next(first.AddMinutes(10)));
            Assert.Equal(first.AddHours(1), cron.Next(first.AddMinutes(20)));
        }
    }

    [Theory]
    [InlineData("@hourly", 24 * 7, 1)]
    [InlineData("@daily", 7, 24)]
    [InlineData("@midnight", 7, 24)]
    [InlineData("@weekly", 1, 24 * 7)]
    public void Aliases_fire_once_per_period(string spec, int perWeek, int hoursApart)
    {
        var cron = JenkinsCron.Parse(spec, "team/nightly");
        var fires = new List<DateTimeOffset>();
        var t = Monday;
        while (cron.Next(t) is { } next && next < Monday.AddDays(7))
            fires.Add(t = next);
        Assert.Equal(perWeek, fires.Count);
        Assert.All(fires.Zip(fires.Skip(1)), p => Assert.Equal(TimeSpan.FromHours(hoursApart), p.Second - p.First));
    }

    [Fact]
    public void Midnight_fires_between_midnight_and_three()
    {
        for (var i = 0; i < 20; i++)
            Assert.InRange(JenkinsCron.Parse("@midnight", $"job-{i}").Next(Monday)!.Value.Hour, 0, 2);
    }

    [Fact]
    public void Monthly_and_yearly_fire_once_a_month_and_once_a_year()
    {
        var monthly = JenkinsCron.Parse("@monthly", "job");
        var first = monthly.Next(Monday)!.Value;
        Assert.Equal(first.AddMonths(1).Month, monthly.Next(first)!.Value.Month);
        Assert.InRange(first.Day, 1, 28);
        var yearly = JenkinsCron.Parse("@yearly", "job");
        var once = yearly.Next(Monday)!.Value;
        Assert.Equal(once.Year + 1, yearly.Next(once)!.Value.Year);
    }

    [Fact]
    public void Next_fire_moves_with_a_fake_clock()
    {
        var time = new FakeTimeProvider(Monday);
        var cron = JenkinsCron.Parse("*/5 * * * *", "job");
        Assert.Equal(At(1, 5, 10, 20), cron.Next(time.GetUtcNow()));
        time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(At(1, 5, 10, 25), cron.Next(time.GetUtcNow()));
    }

    [Fact]
    public void An_empty_spec_never_fires()
    {
        var cron = JenkinsCron.Parse("  \n# only asked\n", "job");
        Assert.True(cron.IsEmpty);
        Assert.Null(cron.Next(Monday));
    }

    [Theory]
    [InlineData("61 * * * *", "minute: '61' is out of range 0-59")]
    [InlineData("* * * *", "expected 5 fields")]
    [InlineData("* 24 * * *", "hour: '24' is out of range 0-23")]
    [InlineData("* * 0 * *", "day of month: '0' is out of range 1-31")]
    [InlineData("*/0 * * * *", "minute: '*/0' has an invalid step")]
    [InlineData("@often", "unknown alias @often")]
    [InlineData("x * * * *", "minute: 'x' is not a number")]
    [InlineData("30-10 * * * *", "empty range")]
    [InlineData("H(50-70) * * * *", "out of range 0-59")]
    public void Invalid_specs_are_rejected_with_the_spec_wording(string spec, string problem)
    {
        Assert.Null(JenkinsCron.TryParse(spec, "job", TimeZoneInfo.Utc, out var why));
        Assert.Contains(problem, why, StringComparison.Ordinal);
        Assert.Contains($"'{spec}'", why, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_line_is_named_by_its_number()
    {
        Assert.Null(JenkinsCron.TryParse("0 0 * * *\n0 25 * * *", "job", TimeZoneInfo.Utc, out var why));
        Assert.StartsWith("line 2: '0 25 * * *'", why, StringComparison.Ordinal);
    }

    static readonly TimeZoneInfo Tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");

    static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text + ":00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Without_a_tz_line_a_spec_is_read_in_the_server_zone()
    {
        var time = new FakeTimeProvider(Monday);
        time.SetLocalTimeZone(Tokyo);
        var cron = JenkinsCron.Parse("0 9 * * *", "job", time.LocalTimeZone);

        // 09:00 in Tokyo (UTC+9) is midnight UTC; Monday 10:17 UTC is already 19:17 there.
        Assert.Equal(Utc("2026-01-06T00:00"), cron.Next(time.GetUtcNow()));
        Assert.Same(Tokyo, cron.Zone);
    }

    [Fact]
    public void A_tz_first_line_reads_the_spec_in_that_zone_not_the_server_zone()
    {
        var time = new FakeTimeProvider(Monday);
        time.SetLocalTimeZone(Tokyo);
        var cron = JenkinsCron.Parse("TZ=America/New_York\n# weekday mornings in New York\n0 9 * * 1-5", "job", time.LocalTimeZone);

        Assert.Equal("America/New_York", cron.Zone.Id);
        Assert.Equal(Utc("2026-01-05T14:00"), cron.Next(time.GetUtcNow()));
        time.Advance(TimeSpan.FromHours(4));
        Assert.Equal(Utc("2026-01-06T14:00"), cron.Next(time.GetUtcNow()));
        // In summer New York is UTC-4, so the same wall-clock minute is an hour earlier in UTC.
        Assert.Equal(Utc("2026-07-06T13:00"), cron.Next(Utc("2026-07-04T00:00")));
        Assert.True(cron.Matches(Utc("2026-01-05T14:00")));
        Assert.False(cron.Matches(Utc("2026-01-05T09:00")));
    }

    [Theory]
    [InlineData("TZ=Asia/Kolkata\n0 9 * * *", "2026-01-06T03:30")]
    [InlineData("TZ=Asia/Kathmandu\n0 9 * * *", "2026-01-06T03:15")]
    [InlineData("TZ=Pacific/Kiritimati\n0 0 1 * *", "2026-01-31T10:00")]
    [InlineData("TZ=UTC\n0 12 * * *", "2026-01-05T12:00")]
    public void Zones_with_part_hour_offsets_and_far_from_utc_fire_on_their_wall_clock(string spec, string expected) =>
        Assert.Equal(Utc(expected), JenkinsCron.Parse(spec, "job", Tokyo).Next(Monday));

    [Fact]
    public void A_local_minute_skipped_when_clocks_go_forward_does_not_fire()
    {
        // Berlin goes from 02:00 to 03:00 on 2026-03-29: there is no 02:30 that day.
        var cron = JenkinsCron.Parse("TZ=Europe/Berlin\n30 2 * * *", "job");

        Assert.Equal(Utc("2026-03-28T01:30"), cron.Next(Utc("2026-03-28T00:00")));
        Assert.Equal(Utc("2026-03-30T00:30"), cron.Next(Utc("2026-03-28T01:30")));
    }

    [Fact]
    public void A_local_hour_repeated_when_clocks_go_back_fires_once()
    {
        // Berlin goes from 03:00 back to 02:00 on 2026-10-25: 02:30 happens at 00:30 and at 01:30 UTC.
        var nightly = JenkinsCron.Parse("TZ=Europe/Berlin\n30 2 * * *", "job");
        Assert.Equal(Utc("2026-10-25T00:30"), nightly.Next(Utc("2026-10-24T23:00")));
        Assert.Equal(Utc("2026-10-26T01:30"), nightly.Next(Utc("2026-10-25T00:30")));

        var halfHourly = JenkinsCron.Parse("TZ=Europe/Berlin\n*/30 * * * *", "job");
        var fires = new List<DateTimeOffset>();
        var t = Utc("2026-10-24T23:59");
        while (halfHourly.Next(t) is { } next && next <= Utc("2026-10-25T02:30"))
            fires.Add(t = next);
        Assert.Equal(
            [Utc("2026-10-25T00:00"), Utc("2026-10-25T00:30"), Utc("2026-10-25T02:00"), Utc("2026-10-25T02:30")],
            fires);
    }

    [Theory]
    [InlineData("TZ=Mars/Olympus_Mons\n* * * * *", "line 1: 'TZ=Mars/Olympus_Mons': unknown time zone 'Mars/Olympus_Mons' (expected an IANA id such as Europe/London)")]
    [InlineData("TZ=", "'TZ=': TZ= needs a time zone id")]
    [InlineData("* * * * *\nTZ=Europe/London", "line 2: 'TZ=Europe/London': TZ= is allowed only on the first line")]
    public void A_bad_tz_line_is_rejected_naming_the_line(string spec, string problem)
    {
        Assert.Null(JenkinsCron.TryParse(spec, "job", TimeZoneInfo.Utc, out var why));
        Assert.StartsWith(problem, why, StringComparison.Ordinal);
    }
}
