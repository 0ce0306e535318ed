namespace Valet.Core;

/// <summary>Every path Valet writes, derived from the home directory (the secrets may live elsewhere: --secrets).</summary>
public sealed class ValetHome(string root, string? secrets = null)
{
    public string Root { get; } = Path.GetFullPath(root);
    public string DatabaseFile => Path.Combine(Root, "valet.db");
    public string Logs => Path.Combine(Root, "logs");
    public string Secrets { get; } = Path.GetFullPath(secrets ?? Path.Combine(root, "secrets"));
    public string WorkspaceRoot => Path.Combine(Root, "workspace");

    /// <summary>Builds are filed by job id, so the log survives renames and never collides.</summary>
    public string BuildDirectory(long jobId, long number) => Path.Combine(Root, "jobs", jobId.ToString(System.Globalization.CultureInfo.InvariantCulture), "builds", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
    public string BuildLog(long jobId, long number) => Path.Combine(BuildDirectory(jobId, number), "log");
    public string JobDirectory(long jobId) => Path.Combine(Root, "jobs", jobId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public string Workspace(string fullName, int slot) =>
        Path.Combine(WorkspaceRoot, fullName.Replace('/', Path.DirectorySeparatorChar)) + (slot > 1 ? $"@{slot}" : "");
}
