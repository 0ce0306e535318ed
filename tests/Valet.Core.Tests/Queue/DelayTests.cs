using Valet.Core.Queue;
using Xunit;

namespace Valet.Core.Tests.Queue;

public sealed class DelayTests
{
    static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0sec", 0)]
    [InlineData("0", 0)]
    [InlineData("10", 0)]
    [InlineData("999", 0)]
    [InlineData("-5sec", -5)]
    [InlineData("-1500", -1)]
    [InlineData("5sec", 5)]
    [InlineData("+5sec", 5)]
    [InlineData("5000", 5)]
    [InlineData(" 5 secs ", 5)]
    [InlineData("5secs", 5)]
    [InlineData("5 sec", 5)]
    [InlineData("1500", 1)]
    [InlineData("1999", 1)]
    [InlineData("60sec", 60)]
    [InlineData("-0sec", 0)]
    [InlineData("9223372036854775807sec", long.MaxValue)]
    public void Well_formed_delays_parse_to_whole_seconds(string text, long expected)
    {
        Assert.True(Delay.TryParseSeconds(text, out var seconds));
        Assert.Equal(expected, seconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("abc")]
    [InlineData("10s")]
    [InlineData("10SEC")]
    [InlineData("10Sec")]
    [InlineData("1.5sec")]
    [InlineData("1,5")]
    [InlineData("10min")]
    [InlineData("sec")]
    [InlineData("secs")]
    [InlineData("5 sec sec")]
    [InlineData("--5sec")]
    [InlineData("0x10")]
    [InlineData("1e3")]
    [InlineData("99999999999999999999")]
    [InlineData("5\0")]
    [InlineData("5sec\0")]
    [InlineData("99999999999999999999sec")]
    [InlineData("\u0665sec")]
    public void Malformed_delays_are_refused(string text) => Assert.False(Delay.TryParseSeconds(text, out _));

    [Theory]
    [InlineData("0sec", 0)]
    [InlineData("0", 0)]
    [InlineData("10", 0)]
    [InlineData("999", 0)]
    [InlineData("-5sec", 0)]
    [InlineData("-1500", 0)]
    [InlineData("5sec", 5)]
    [InlineData("+5sec", 5)]
    [InlineData("5000", 5)]
    [InlineData(" 5 secs ", 5)]
    [InlineData("1500", 1)]
    public void Delays_of_the_spec_table_fall_due_as_listed(string text, int dueInSeconds)
    {
        Assert.True(Delay.TryParseSeconds(text, out var seconds));
        Assert.Equal(Now.AddSeconds(dueInSeconds), Delay.DueAt(Now, seconds));
    }

    [Fact]
    public void Zero_or_negative_delays_are_due_now_even_when_huge() =>
        Assert.Equal(Now, Delay.DueAt(Now, long.MinValue));

    [Fact]
    public void A_due_time_after_year_9999_is_refused()
    {
        Assert.Null(Delay.DueAt(Now, long.MaxValue));
        var lastSecond = (DateTimeOffset.MaxValue - Now).Ticks / TimeSpan.TicksPerSecond;
        Assert.Null(Delay.DueAt(Now, lastSecond + 1));
        Assert.Null(Delay.DueAt(Now, lastSecond + 2));
        Assert.Equal(new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero), Delay.DueAt(Now, lastSecond));
    }

    [Fact]
    public void A_due_time_a_fraction_of_a_second_before_the_end_of_year_9999_is_refused_whatever_the_time_of_day()
    {
        for (var fraction = 0; fraction < 10_000_000; fraction += 1_234_567)
        {
            var now = Now.AddTicks(fraction);
            var lastSecond = (DateTimeOffset.MaxValue - now).Ticks / TimeSpan.TicksPerSecond;
            Assert.Null(Delay.DueAt(now, lastSecond + 1));
            Assert.Equal(9999, Delay.DueAt(now, lastSecond)!.Value.Year);
        }
    }
}
