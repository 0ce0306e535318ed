namespace Valet.Core.Execution;

/// <summary>One step of a build: its type picks the <see cref="IStepRunner"/> that runs it.</summary>
public sealed record Step(string Type, string Script)
{
    public const string ShellType = "sh";

    public static Step Shell(string script) => new(ShellType, script);
}

/// <summary>What a step runs with: the build's workspace, environment and console.</summary>
public sealed record StepContext(string Workspace, IReadOnlyDictionary<string, string> Environment, ConsoleWriter Console);

/// <summary>
/// Runs the steps of one type. Runners are chosen by <see cref="StepType"/>, so another kind of step
/// (a pipeline's, an agent's) is one more implementation, not a branch in the build.
/// </summary>
public interface IStepRunner
{
    string StepType { get; }

    /// <summary>Runs the step; returns its <see cref="BuildResult"/>: SUCCESS lets the build go on to the next step.</summary>
    Task<string> RunAsync(Step step, StepContext context, CancellationToken abort);
}
