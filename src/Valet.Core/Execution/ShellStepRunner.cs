namespace Valet.Core.Execution;

/// <summary>A shell step ("Execute shell"): the script through <see cref="ProcessRunner"/>; a non-zero exit fails the build.</summary>
public sealed class ShellStepRunner(ProcessRunner processes) : IStepRunner
{
    public string StepType => Step.ShellType;

    public async Task<string> RunAsync(Step step, StepContext context, CancellationToken abort)
    {
        var exit = await processes.RunAsync(new ProcessSpec(step.Script, context.Workspace, context.Environment), context.Console.WriteAsync, abort);
        await context.Console.EndOutputAsync();
        if (exit is null)
            return BuildResult.Aborted;
        if (exit != 0)
        {
            await context.Console.WriteLineAsync($"Build step 'Execute shell' marked build as failure (exit code {exit})");
            return BuildResult.Failure;
        }
        return BuildResult.Success;
    }
}
