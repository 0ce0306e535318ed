using Microsoft.Extensions.Options;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Valet.Core.Execution;
using Valet.Core.Items;

namespace Valet.Core.Scm;

/// <summary>
/// The git command line through <see cref="ProcessRunner"/>: it acts like the user's git (SSH keys,
/// credential helpers, http and file URLs), is killed like a step on abort, and its trace goes to the
/// console or the polling log. URL and branch reach the script as variables, never spliced into it.
/// A password in the URL reaches git through a credential helper instead, and the readers of the trace
/// mask it anyway (<see cref="GitUrl"/>).
/// </summary>
public sealed partial class GitClient(ProcessRunner processes, IOptions<ExecutorOptions> options)
{
    const string CheckoutScript = """
        git init -q .
        git remote add origin "$GIT_URL" 2>/dev/null || git remote set-url origin "$GIT_URL"
        git fetch --no-tags --force origin "+refs/heads/$GIT_BRANCH_NAME:refs/remotes/origin/$GIT_BRANCH_NAME"
        git checkout -q -f --detach "refs/remotes/origin/$GIT_BRANCH_NAME"
        git rev-parse HEAD > "$VALET_SCM_OUT/revision"
        if [ -n "$GIT_PREVIOUS_COMMIT" ] && git cat-file -e "$GIT_PREVIOUS_COMMIT^{commit}" 2>/dev/null; then
          git log -z --format='%H%x1f%an%x1f%ae%x1f%ct%x1f%B' "$GIT_PREVIOUS_COMMIT..HEAD" > "$VALET_SCM_OUT/log"
        fi
        """;

    const string LsRemoteScript = """git ls-remote "$GIT_URL" "refs/heads/$GIT_BRANCH_NAME" """;

    /// <summary>git runs with what builds start from (the allow-list and server.environment), plus its inputs.</summary>
    Dictionary<string, string> Variables(GitScm scm)
    {
        var env = BuildEnvironment.Base(options.Value.Environment);
        env["GIT_URL"] = GitUrl.WithoutPassword(scm.Url);
        env["GIT_BRANCH_NAME"] = scm.Branch;
        // A build must fail, not wait for a password nobody will type.
        env["GIT_TERMINAL_PROMPT"] = "0";
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
        if (GitUrl.Password(scm.Url) is { } password)
        {
            // The URL's password reaches git through the one credential helper it is given here (the
            // empty value drops the user's helpers first), never through the URL: so it is neither in
            // the clone's .git/config nor in a traced command line.
            env["VALET_GIT_PASSWORD"] = password;
            env["GIT_CONFIG_COUNT"] = "2";
            env["GIT_CONFIG_KEY_0"] = env["GIT_CONFIG_KEY_1"] = "credential.helper";
            env["GIT_CONFIG_VALUE_0"] = "";
            env["GIT_CONFIG_VALUE_1"] = """!f() { test "$1" = get && printf 'password=%s\n' "$VALET_GIT_PASSWORD"; }; f""";
        }
        return env;
    }

    /// <summary>The remote branch's head, or null when it cannot be read; everything git wrote goes to <paramref name="output"/>.</summary>
    public async Task<string?> RemoteHeadAsync(GitScm scm, string workingDirectory, Func<ReadOnlyMemory<byte>, Task> output, CancellationToken abort)
    {
        Directory.CreateDirectory(workingDirectory);
        var text = new StringBuilder();
        var exit = await processes.RunAsync(new ProcessSpec(LsRemoteScript, workingDirectory, Variables(scm)), async bytes =>
        {
            text.Append(Encoding.UTF8.GetString(bytes.Span));
            await output(bytes);
        }, abort);
        if (exit != 0)
            return null;
        var wanted = "refs/heads/" + scm.Branch;
        return text.ToString().Split('\n').Select(l => HeadLine().Match(l.TrimEnd('\r')))
            .FirstOrDefault(m => m.Success && m.Groups[2].Value == wanted)?.Groups[1].Value;
    }

    /// <summary>Checks the branch out into the workspace (fetching into the clone it keeps there); null when git failed or was aborted.</summary>
    public async Task<ScmRevision?> CheckoutAsync(GitScm scm, string workspace, string? previous, ConsoleWriter console, CancellationToken abort)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "valet-scm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            var env = Variables(scm);
            env["GIT_PREVIOUS_COMMIT"] = previous ?? "";
            env["VALET_SCM_OUT"] = scratch;
            var exit = await processes.RunAsync(new ProcessSpec(CheckoutScript, workspace, env), console.WriteAsync, abort);
            await console.EndOutputAsync();
            var revisionFile = Path.Combine(scratch, "revision");
            if (exit != 0 || !File.Exists(revisionFile))
                return null;
            var revision = (await File.ReadAllTextAsync(revisionFile, CancellationToken.None)).Trim();
            var logFile = Path.Combine(scratch, "log");
            var changes = File.Exists(logFile) ? ParseLog(await File.ReadAllTextAsync(logFile, CancellationToken.None)) : [];
            return new ScmRevision(GitUrl.Masked(scm.Url), scm.Branch, revision, previous, changes);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>`git log -z` records of unit-separated hash, author, email, commit time and message.</summary>
    static List<ChangeSetEntry> ParseLog(string log) =>
        log.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(record => record.TrimStart('\n').Split('\u001f'))
            .Where(f => f.Length == 5)
            .Select(f => new ChangeSetEntry(f[0], f[1], f[2],
                long.Parse(f[3], NumberStyles.None, CultureInfo.InvariantCulture) * 1000, f[4].TrimEnd('\n')))
            .ToList();

    [GeneratedRegex(@"^([0-9a-f]{40,64})\t(\S+)$")]
    private static partial Regex HeadLine();
}
