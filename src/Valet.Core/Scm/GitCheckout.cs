using Valet.Core.Execution;
using Valet.Core.Items;

namespace Valet.Core.Scm;

/// <summary>
/// A git job's checkout before its steps: the branch into the workspace, the revision and change set
/// recorded on the build, and Jenkins' GIT_* variables for the steps.
/// </summary>
public sealed class GitCheckout(GitClient git, ScmStore store)
{
    /// <summary>The variables for the steps, or null when the checkout failed (the build fails) or was aborted.</summary>
    public async Task<IReadOnlyDictionary<string, string>?> RunAsync(Build build, GitScm scm, ConsoleWriter console, CancellationToken abort)
    {
        await console.WriteLineAsync($"Checking out branch {scm.Branch} of {GitUrl.Masked(scm.Url)}");
        if (scm.Credentials is { } credentials)
            await console.WriteLineAsync(CredentialsNotUsed(credentials));
        var previous = await store.LastBuiltRevisionAsync(build.JobId, build.Number, CancellationToken.None);
        var checkout = await git.CheckoutAsync(scm, build.Workspace, previous, console, abort);
        if (checkout is null)
        {
            if (!abort.IsCancellationRequested)
                await console.WriteLineAsync($"Checkout of {GitUrl.Masked(scm.Url)} ({scm.Branch}) failed");
            return null;
        }
        await store.RecordAsync(build.JobId, build.Number, checkout, CancellationToken.None);
        await console.WriteLineAsync($"Checked out revision {checkout.Revision} (origin/{scm.Branch})");
        foreach (var change in checkout.ChangeSet)
            await console.WriteLineAsync($"  {change.CommitId[..Math.Min(12, change.CommitId.Length)]} {change.Author}: {FirstLine(change.Message)}");
        var variables = new Dictionary<string, string>
        {
            ["GIT_COMMIT"] = checkout.Revision,
            ["GIT_BRANCH"] = "origin/" + scm.Branch,
            // As configured, as Jenkins passes it, so a step can push with it; the build's console
            // masks its password (BuildRun).
            ["GIT_URL"] = scm.Url,
        };
        if (previous is not null)
            variables["GIT_PREVIOUS_COMMIT"] = previous;
        return variables;
    }

    /// <summary>
    /// Said where a job names credentials: with no credentials store to look them up in, git goes on
    /// with the server user's own, as Jenkins' git plugin goes on when a credentials id is not found.
    /// </summary>
    public static string CredentialsNotUsed(string id) =>
        $"Credentials '{id}' not used: this server has no credentials store yet; git uses the server user's own credentials (SSH keys, credential helpers)";

    public static string FirstLine(string message) => message.Split('\n', 2)[0];
}
