using System.Globalization;

namespace Valet.Core.Queue;

/// <summary>The `delay` input (core's TimeDuration rule): "N", "Nsec", "N secs"; plain numbers are milliseconds.</summary>
public static class Delay
{
    /// <summary>Parses <paramref name="text"/> into whole seconds (may be zero or negative); false when malformed.</summary>
    public static bool TryParseSeconds(string text, out long seconds)
    {
        seconds = 0;
        var t = text.Trim();
        var unitSeconds = false;
        foreach (var suffix in (ReadOnlySpan<string>)["secs", "sec"])
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal))
            {
                t = t[..^suffix.Length].Trim();
                unitSeconds = true;
                break;
            }
        }
        // long.TryParse ignores trailing NULs: "5\0" is no number.
        if (t.Length == 0 || t.Contains('\0') || !long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            return false;
        seconds = unitSeconds ? n : n / 1000;
        return true;
    }

    /// <summary>The due time for a delay, or null when it would fall after year 9999.</summary>
    public static DateTimeOffset? DueAt(DateTimeOffset now, long seconds)
    {
        if (seconds <= 0)
            return now;
        // Whole ticks: TotalSeconds is a double and can round up past the last representable second.
        return seconds > (DateTimeOffset.MaxValue - now).Ticks / TimeSpan.TicksPerSecond ? null : now.AddSeconds(seconds);
    }
}
