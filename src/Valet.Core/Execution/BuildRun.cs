using System.Globalization;
using Valet.Core.Items;
using Valet.Core.Scm;

namespace Valet.Core.Execution;

/// <summary>
/// One build, from its first console line to its result: the causes, the workspace, the environment,
/// the console (masking the build's secrets), and the steps in order, each by the runner of its type;
/// the first step that does not succeed ends the build with its result.
/// </summary>
public sealed class BuildRun(Build build, Item job, ValetHome home, ConsoleLogs consoles, string rootUrl, IReadOnlyDictionary<string, IStepRunner> runners,
    IReadOnlyDictionary<string, string>? serverEnvironment = null, GitCheckout? git = null)
{
    /// <summary>Runs the build; <paramref name="abortedBy"/> names who stopped it once <paramref name="abort"/> is cancelled.</summary>
    public async Task<string> RunAsync(CancellationToken abort, Func<string?> abortedBy)
    {
        var masker = new SecretMasker((build.Parameters ?? []).Where(p => p.IsSecret).Select(p => p.Value)
            .Concat(job.Job?.Scm is { } scm ? GitUrl.Secrets(scm.Url) : []));
        // Disposed before the result is recorded: a finished build's console is whole on every server.
        await using var console = consoles.Create(build.JobId, build.Number, masker);
        foreach (var cause in build.Causes)
            await console.WriteUnmaskedLineAsync(cause.ShortDescription);
        Directory.CreateDirectory(build.Workspace);
        await console.WriteLineAsync($"Building in workspace {build.Workspace}");
        var result = await RunStepsAsync(console, abort);
        if (result == BuildResult.Aborted)
            await console.WriteLineAsync($"Aborted by {abortedBy() ?? "unknown"}");
        await console.WriteLineAsync($"Finished: {result}");
        return result;
    }

    async Task<string> RunStepsAsync(ConsoleWriter console, CancellationToken abort)
    {
        if (job.Definition is not FreestyleJob freestyle)
        {
            // Pipeline jobs can be defined and triggered already; their engine, which will hand this
            // build its steps, is a capability still to come.
            await console.WriteLineAsync("Pipeline scripts cannot run on this server yet; nothing was built.");
            return BuildResult.NotBuilt;
        }
        if (freestyle.UnsupportedStep is { } unsupported)
        {
            await console.WriteLineAsync($"This job's config.xml has a builder Valet cannot run ({unsupported}); nothing was built.");
            return BuildResult.Failure;
        }
        var environment = Environment();
        if (freestyle.Scm is { } scm && git is not null)
        {
            if (await git.RunAsync(build, scm, console, abort) is not { } scmVariables)
                return abort.IsCancellationRequested ? BuildResult.Aborted : BuildResult.Failure;
            foreach (var (name, value) in scmVariables)
                environment[name] = value;
        }
        var context = new StepContext(build.Workspace, environment, console);
        foreach (var step in freestyle.Steps.Select(Step.Shell))
        {
            if (abort.IsCancellationRequested)
                return BuildResult.Aborted;
            var runner = runners.GetValueOrDefault(step.Type) ?? throw new InvalidOperationException($"No runner for steps of type '{step.Type}'");
            var result = await runner.RunAsync(step, context, abort);
            if (result != BuildResult.Success)
                return result;
        }
        return abort.IsCancellationRequested ? BuildResult.Aborted : BuildResult.Success;
    }

    /// <summary>
    /// The build's whole environment, from scratch, later sources winning: the server's allow-listed
    /// variables, <c>server.environment</c>, the build's parameters, then Valet's own variables, so a
    /// parameter named BUILD_NUMBER cannot pass for the real one. Secrets the config file interpolates
    /// stay in the server.
    /// </summary>
    Dictionary<string, string> Environment()
    {
        var env = BuildEnvironment.Base(serverEnvironment);
        foreach (var p in build.Parameters ?? [])
            env[p.Name] = p.Value;
        var number = build.Number.ToString(CultureInfo.InvariantCulture);
        var jobUrl = rootUrl + job.UrlPath;
        env["BUILD_NUMBER"] = number;
        env["BUILD_ID"] = number;
        env["BUILD_URL"] = jobUrl + number + "/";
        env["JOB_NAME"] = job.FullName;
        env["JOB_BASE_NAME"] = job.Name;
        env["JOB_URL"] = jobUrl;
        env["WORKSPACE"] = build.Workspace;
        env["VALET_HOME"] = home.Root;
        env["NODE_NAME"] = build.Node;
        env["EXECUTOR_NUMBER"] = (build.Executor - 1).ToString(CultureInfo.InvariantCulture);
        return env;
    }
}
