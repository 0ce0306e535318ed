using Valet.Core.Items;

namespace Valet.Core.Execution;

/// <summary>Runs one build's steps in order in its workspace; the first failing step fails the build.</summary>
public sealed class BuildRunner(ProcessRunner processes, ValetHome home)
{
    public async Task<string> RunAsync(Build build, Item job, IReadOnlyDictionary<string, string> environment, CancellationToken abort, Func<string?> abortedBy)
    {
        var masker = new SecretMasker((build.Parameters ?? []).Where(p => p.IsSecret).Select(p => p.Value));
        await using var console = new ConsoleWriter(home.BuildLog(build.JobId, build.Number), masker);
        Directory.CreateDirectory(build.Workspace);
        await console.WriteLineAsync($"Building in workspace {build.Workspace}");
        var result = await RunStepsAsync(job, build, environment, console, abort);
        if (result == BuildResult.Aborted)
            await console.WriteLineAsync($"Aborted by {abortedBy() ?? "unknown"}");
        await console.WriteLineAsync($"Finished: {result}");
        return result;
    }

    async Task<string> RunStepsAsync(Item job, Build build, IReadOnlyDictionary<string, string> environment, ConsoleWriter console, CancellationToken abort)
    {
        if (job.Definition is PipelineJob)
        {
            // Pipeline jobs can be defined and triggered already; their engine is a capability still to come.
            await console.WriteLineAsync("Pipeline scripts cannot run on this server yet; nothing was built.");
            return BuildResult.NotBuilt;
        }
        foreach (var step in ((FreestyleJob)job.Definition).Steps)
        {
            if (abort.IsCancellationRequested)
                return BuildResult.Aborted;
            var exit = await processes.RunAsync(new ProcessSpec(step, build.Workspace, environment), console.WriteAsync, abort);
            await console.EndOutputAsync();
            if (exit is null)
                return BuildResult.Aborted;
            if (exit != 0)
            {
                await console.WriteLineAsync($"Build step 'Execute shell' marked build as failure (exit code {exit})");
                return BuildResult.Failure;
            }
        }
        return abort.IsCancellationRequested ? BuildResult.Aborted : BuildResult.Success;
    }
}
