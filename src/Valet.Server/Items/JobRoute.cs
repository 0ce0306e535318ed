namespace Valet.Server.Items;

/// <summary>
/// A path below /job/: the item's name segments (`A/job/B` → [A, B]) and what follows them
/// (`api/json`, `3/consoleText`, `build` …). Jenkins nests items as repeated `job/NAME` pairs, which a
/// route template cannot say, so one catch-all route parses them here.
/// </summary>
public sealed record JobRoute(IReadOnlyList<string> Names, IReadOnlyList<string> Rest)
{
    public static JobRoute? Parse(string path)
    {
        var segments = path.Split('/').ToList();
        // With or without a trailing slash.
        if (segments.Count > 0 && segments[^1].Length == 0)
            segments.RemoveAt(segments.Count - 1);
        if (segments.Count == 0 || segments.Any(s => s.Length == 0))
            return null;
        var names = new List<string> { segments[0] };
        var i = 1;
        while (i + 1 < segments.Count && segments[i] == "job")
        {
            names.Add(segments[i + 1]);
            i += 2;
        }
        return new JobRoute(names, segments.Skip(i).ToList());
    }

    public bool Is(params string[] rest) => Rest.SequenceEqual(rest);

    public static readonly string[] Permalinks =
        ["lastBuild", "lastCompletedBuild", "lastSuccessfulBuild", "lastStableBuild", "lastFailedBuild", "lastUnstableBuild", "lastUnsuccessfulBuild"];

    /// <summary>The build this route names (a number or a permalink), if its first rest segment is one.</summary>
    public string? BuildRef => Rest.Count > 0 && (long.TryParse(Rest[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _) || Permalinks.Contains(Rest[0])) ? Rest[0] : null;
}
