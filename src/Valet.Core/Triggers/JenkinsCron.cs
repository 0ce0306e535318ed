using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Valet.Core.Triggers;

/// <summary>
/// A Jenkins cron spec: one schedule per line (blank lines and `#` comments skipped), five fields
/// (minute, hour, day of month, month, day of week with 0 and 7 both Sunday), each a comma list of
/// `*`, `n`, `a-b`, `H` or `H(a-b)`, optionally `/step`, or one of the @aliases. `H` is a value spread
/// by a stable hash of the job's full name, so jobs with the same spec do not all fire at once; the
/// hash is SHA-256, not string.GetHashCode, because the minute must survive a restart. Like Jenkins,
/// day of month and day of week must both match.
/// <para>
/// A spec is read in the server's local time zone, or in the zone a first line `TZ=Area/City` names
/// (an IANA id, as Jenkins takes). Fields match the wall clock of that zone, checked on each real
/// minute: a local minute that a daylight-saving change skips does not exist, so it does not fire
/// (`30 2 * * *` has no 02:30 on the spring-forward day); a local minute that happens twice when
/// clocks go back fires the first time only, so a nightly build never runs twice in one night.
/// </para>
/// </summary>
public sealed class JenkinsCron
{
    sealed record Field(string Name, int Min, int Max);

    static readonly Field[] Fields =
    [
        new("minute", 0, 59), new("hour", 0, 23), new("day of month", 1, 31), new("month", 1, 12), new("day of week", 0, 7),
    ];

    static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["@yearly"] = "H H H H *",
        ["@annually"] = "H H H H *",
        ["@monthly"] = "H H H * *",
        ["@weekly"] = "H H * * H",
        ["@daily"] = "H H * * *",
        ["@midnight"] = "H H(0-2) * * *",
        ["@hourly"] = "H * * * *",
    };

    // One bit set per allowed value, per line; day-of-week 7 is folded into 0.
    readonly List<ulong[]> schedules;

    JenkinsCron(List<ulong[]> schedules, TimeZoneInfo zone)
    {
        this.schedules = schedules;
        Zone = zone;
    }

    /// <summary>True when the spec has no schedule line ("poll only when asked").</summary>
    public bool IsEmpty => schedules.Count == 0;

    /// <summary>The zone whose wall clock the fields are read in: the `TZ=` line's, else the server's.</summary>
    public TimeZoneInfo Zone { get; }

    /// <summary>
    /// Parses <paramref name="spec"/> for the job <paramref name="jobName"/> (whose name seeds `H`), read in
    /// <paramref name="serverZone"/> unless a `TZ=` line names another; null with a reason when invalid.
    /// </summary>
    public static JenkinsCron? TryParse(string spec, string jobName, TimeZoneInfo serverZone, out string? problem)
    {
        problem = null;
        var schedules = new List<ulong[]>();
        var zone = serverZone;
        var lines = spec.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith("TZ=", StringComparison.Ordinal))
            {
                var zoneProblem = i > 0 ? "TZ= is allowed only on the first line" : FindZone(line[3..].Trim(), out zone);
                if (zoneProblem is not null)
                {
                    problem = lines.Length > 1 ? $"line {i + 1}: '{line}': {zoneProblem}" : $"'{line}': {zoneProblem}";
                    return null;
                }
                continue;
            }
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var parsed = ParseLine(line, jobName, out var lineProblem);
            if (parsed is null)
            {
                problem = lines.Length > 1 ? $"line {i + 1}: '{line}': {lineProblem}" : $"'{line}': {lineProblem}";
                return null;
            }
            schedules.Add(parsed);
        }
        return new JenkinsCron(schedules, zone!);
    }

    /// <summary>Parses a spec known to be valid; read in <paramref name="serverZone"/> (UTC when not given) unless it names a zone.</summary>
    public static JenkinsCron Parse(string spec, string jobName, TimeZoneInfo? serverZone = null) =>
        TryParse(spec, jobName, serverZone ?? TimeZoneInfo.Utc, out var problem) ?? throw new FormatException(problem);

    /// <summary>The zone an IANA id (or another id the system knows) names; a reason when there is none.</summary>
    static string? FindZone(string id, out TimeZoneInfo? zone)
    {
        zone = null;
        if (id.Length == 0)
            return "TZ= needs a time zone id (an IANA id such as Europe/London)";
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return null;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return $"unknown time zone '{id}' (expected an IANA id such as Europe/London)";
        }
    }

    static ulong[]? ParseLine(string line, string jobName, out string? problem)
    {
        problem = null;
        if (line.StartsWith('@'))
        {
            var alias = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0];
            if (!Aliases.TryGetValue(alias, out var expanded))
            {
                problem = $"unknown alias {alias} (expected one of {string.Join(", ", Aliases.Keys)})";
                return null;
            }
            line = expanded;
        }
        var parts = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 5)
        {
            problem = $"expected 5 fields (minute hour day-of-month month day-of-week), found {parts.Length}";
            return null;
        }
        var bits = new ulong[5];
        for (var f = 0; f < 5; f++)
        {
            foreach (var term in parts[f].Split(','))
            {
                if (!ParseTerm(term, Fields[f], Hash(jobName, f), ref bits[f], out problem))
                    return null;
            }
        }
        if ((bits[4] & (1UL << 7)) != 0)
            bits[4] = (bits[4] | 1UL) & ~(1UL << 7);
        return bits;
    }

    static bool ParseTerm(string term, Field field, uint hash, ref ulong bits, out string? problem)
    {
        problem = null;
        var step = 1;
        var slash = term.IndexOf('/', StringComparison.Ordinal);
        var range = slash < 0 ? term : term[..slash];
        if (slash >= 0 && (!int.TryParse(term[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1))
        {
            problem = $"{field.Name}: '{term}' has an invalid step (expected a positive number after '/')";
            return false;
        }
        // Day of week 7 is Sunday only as a value; H and * range over 0-6 so Sunday is not counted twice.
        var max = field.Name == "day of week" ? 6 : field.Max;
        int low, high;
        var hashed = false;
        if (range == "*")
            (low, high) = (field.Min, max);
        else if (range == "H")
            (low, high, hashed) = (field.Min, field.Name == "day of month" ? 28 : max, true);
        else if (range.StartsWith("H(", StringComparison.Ordinal) && range.EndsWith(')'))
        {
            if (!Range(range[2..^1], field, out low, out high, out problem))
                return false;
            hashed = true;
        }
        else if (!Range(range, field, out low, out high, out problem))
            return false;
        else if (slash >= 0 && !range.Contains('-', StringComparison.Ordinal))
            high = max;

        if (hashed)
        {
            // H/step spreads the start within the first step; plain H picks one value in the range.
            var size = high - low + 1;
            if (slash < 0)
            {
                bits |= 1UL << (low + (int)(hash % (uint)size));
                return true;
            }
            low += (int)(hash % (uint)Math.Min(step, size));
        }
        for (var v = low; v <= high; v += step)
            bits |= 1UL << v;
        return true;
    }

    static bool Range(string text, Field field, out int low, out int high, out string? problem)
    {
        problem = null;
        low = high = 0;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        bool ok;
        if (dash < 0)
        {
            ok = Number(text, out low);
            high = low;
        }
        else
            ok = Number(text[..dash], out low) && Number(text[(dash + 1)..], out high);
        if (!ok)
        {
            problem = $"{field.Name}: '{text}' is not a number, a range a-b, '*' or 'H'";
            return false;
        }
        if (low < field.Min || high > field.Max || low > field.Max || high < field.Min)
        {
            problem = $"{field.Name}: '{text}' is out of range {field.Min}-{field.Max}";
            return false;
        }
        if (low > high)
        {
            problem = $"{field.Name}: '{text}' is an empty range ({low} > {high})";
            return false;
        }
        return true;
    }

    static bool Number(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    static uint Hash(string jobName, int field)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(jobName));
        return BitConverter.ToUInt32(digest, field * 4);
    }

    /// <summary>
    /// Whether the minute that starts at <paramref name="minute"/> fires: its wall-clock time in <see cref="Zone"/>
    /// matches a line, and it is not the second pass of a local hour repeated when clocks go back.
    /// </summary>
    public bool Matches(DateTimeOffset minute)
    {
        var offset = Zone.GetUtcOffset(minute);
        if (Zone.IsAmbiguousTime(minute) && offset != Zone.GetAmbiguousTimeOffsets(minute).Max())
            return false;
        return MatchesWallClock(minute.ToOffset(offset).DateTime);
    }

    bool MatchesWallClock(DateTime t)
    {
        foreach (var b in schedules)
        {
            if (Has(b[0], t.Minute) && Has(b[1], t.Hour) && Has(b[2], t.Day) && Has(b[3], t.Month) && Has(b[4], (int)t.DayOfWeek))
                return true;
        }
        return false;
    }

    static bool Has(ulong bits, int value) => (bits & (1UL << value)) != 0;

    /// <summary>The first minute that fires strictly after <paramref name="after"/>, within five years; null when none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after)
    {
        if (IsEmpty)
            return null;
        var utc = after.UtcDateTime;
        var t = new DateTimeOffset(new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, DateTimeKind.Utc)).AddMinutes(1);
        var end = t.AddYears(5);
        while (t < end)
        {
            var offset = Zone.GetUtcOffset(t);
            var local = t.ToOffset(offset).DateTime;
            // Whole months, days and hours that cannot match are skipped by their wall-clock length.
            DateTime target;
            if (!schedules.Any(b => Has(b[3], local.Month)))
                target = new DateTime(local.Year, local.Month, 1).AddMonths(1);
            else if (!schedules.Any(b => Has(b[3], local.Month) && Has(b[2], local.Day) && Has(b[4], (int)local.DayOfWeek)))
                target = local.Date.AddDays(1);
            else if (!schedules.Any(b => Has(b[3], local.Month) && Has(b[2], local.Day) && Has(b[4], (int)local.DayOfWeek) && Has(b[1], local.Hour)))
                target = new DateTime(local.Year, local.Month, local.Day, local.Hour, 0, 0).AddHours(1);
            else if (Matches(t))
                return t;
            else
            {
                t = t.AddMinutes(1);
                continue;
            }
            // Where clocks go forward inside the skip, wall time runs ahead of real time: skip less by as much,
            // so no minute that exists is passed over; the loop walks on from wherever it lands.
            var skip = target - local;
            var ahead = Zone.GetUtcOffset(t + skip) - offset;
            if (ahead > TimeSpan.Zero)
                skip -= ahead;
            t += skip < TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : skip;
        }
        return null;
    }
}
