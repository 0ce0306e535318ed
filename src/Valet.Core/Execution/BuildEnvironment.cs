namespace Valet.Core.Execution;

/// <summary>
/// What every process Valet runs for a build or a poll starts from (limits.md §3): the allow-listed
/// variables of the server's own environment, then <c>server.environment</c>. Nothing else of the
/// server's environment gets through, so secrets the config file interpolates stay in the server.
/// </summary>
public static class BuildEnvironment
{
    static readonly string[] Inherited =
    [
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", "TMPDIR", "TERM", "SSH_AUTH_SOCK",
        "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
    ];

    public static Dictionary<string, string> Base(IReadOnlyDictionary<string, string>? serverEnvironment)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            if (e.Key is string name && e.Value is string value && (Inherited.Contains(name) || name.StartsWith("LC_", StringComparison.Ordinal)))
                env[name] = value;
        }
        foreach (var (name, value) in serverEnvironment ?? new Dictionary<string, string>())
            env[name] = value;
        return env;
    }
}
