using Microsoft.Extensions.Time.Testing;
using Valet.Core.Security;
using Xunit;

namespace Valet.Core.Tests.Security;

public sealed class SignInGuardTests
{
    [Fact]
    public void Below_ten_failures_an_address_is_only_slowed_by_at_most_a_second()
    {
        var guard = new SignInGuard(new FakeTimeProvider());
        for (var i = 0; i < SignInGuard.MaxFailures - 1; i++)
        {
            var delay = guard.RecordFailure("10.0.0.1");
            Assert.InRange(delay, TimeSpan.Zero, TimeSpan.FromSeconds(1));
            Assert.False(guard.IsBlocked("10.0.0.1", out _));
        }
    }

    [Fact]
    public void Ten_failures_within_a_minute_block_the_address_until_the_oldest_leaves_the_window()
    {
        var time = new FakeTimeProvider();
        var guard = new SignInGuard(time);
        for (var i = 0; i < 10; i++)
        {
            guard.RecordFailure("10.0.0.1");
            time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.True(guard.IsBlocked("10.0.0.1", out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(50), retryAfter);
        time.Advance(TimeSpan.FromSeconds(49));
        Assert.True(guard.IsBlocked("10.0.0.1", out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(guard.IsBlocked("10.0.0.1", out _));
        Assert.Equal(9, guard.FailuresOf("10.0.0.1"));
    }

    [Fact]
    public void Failures_spread_wider_than_the_window_never_block()
    {
        var time = new FakeTimeProvider();
        var guard = new SignInGuard(time);
        for (var i = 0; i < 30; i++)
        {
            guard.RecordFailure("10.0.0.1");
            Assert.False(guard.IsBlocked("10.0.0.1", out _));
            time.Advance(TimeSpan.FromSeconds(7));
        }
    }

    [Fact]
    public void Other_addresses_are_not_affected()
    {
        var guard = new SignInGuard(new FakeTimeProvider());
        for (var i = 0; i < 25; i++)
            guard.RecordFailure("10.0.0.1");
        Assert.True(guard.IsBlocked("10.0.0.1", out _));
        Assert.False(guard.IsBlocked("10.0.0.2", out _));
        Assert.Equal(TimeSpan.Zero, guard.RecordFailure("10.0.0.2"));
    }

    [Fact]
    public void The_added_delay_grows_with_the_failures_and_stops_at_one_second()
    {
        var guard = new SignInGuard(new FakeTimeProvider());
        var delays = Enumerable.Range(0, 15).Select(_ => guard.RecordFailure("10.0.0.1")).ToList();
        Assert.Equal(TimeSpan.Zero, delays[0]);
        Assert.True(delays.Zip(delays.Skip(1)).All(p => p.First <= p.Second));
        Assert.Equal(TimeSpan.FromSeconds(1), delays[^1]);
    }
}
