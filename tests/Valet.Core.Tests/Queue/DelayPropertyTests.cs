using CsCheck;
using Valet.Core.Queue;
using Xunit;

namespace Valet.Core.Tests.Queue;

/// <summary>`delay` from any caller: its only error is a false return, and what it accepts it reads exactly.</summary>
public sealed class DelayPropertyTests
{
    static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Any_text_is_parsed_or_refused_and_never_throws() =>
        HostileText.From(12, "0", "1", "9", "-", "+", " ", "sec", "secs", "SEC", "9223372036854775807", "1e3", ".", ",", "٣")
            .Sample(text =>
            {
                if (Delay.TryParseSeconds(text, out var seconds))
                {
                    // Accepted text is a number, optionally with the unit, and nothing else.
                    Assert.Matches(@"^\s*[+-]?[0-9]+\s*(secs?)?\s*$", text);
                    _ = Delay.DueAt(Now, seconds);
                }
            }, iter: 20_000);

    [Fact]
    public void Every_whole_number_reads_back_as_seconds_with_the_unit_and_as_milliseconds_without() =>
        Gen.Long.Sample(n =>
        {
            Assert.True(Delay.TryParseSeconds($"{n}sec", out var withUnit));
            Assert.Equal(n, withUnit);
            Assert.True(Delay.TryParseSeconds($" {n} secs ", out var spaced));
            Assert.Equal(n, spaced);
            Assert.True(Delay.TryParseSeconds(n.ToString(System.Globalization.CultureInfo.InvariantCulture), out var millis));
            Assert.Equal(n / 1000, millis);
            var due = Delay.DueAt(Now, withUnit);
            Assert.True(due is null ? n > 0 : due >= Now);
        }, iter: 20_000);
}
