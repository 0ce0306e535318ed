using Valet.Core.Items;
using Valet.Core.Queue;

namespace Valet.Core.Execution;

public static class BuildResult
{
    public const string Success = "SUCCESS";
    public const string Unstable = "UNSTABLE";
    public const string Failure = "FAILURE";
    public const string NotBuilt = "NOT_BUILT";
    public const string Aborted = "ABORTED";
}

/// <summary>
/// A build as stored. Result is null while it runs; <paramref name="ServerId"/> names the server
/// process that claimed it (<see cref="ServerNode"/>).
/// </summary>
public sealed record Build(
    long JobId, long Number, long QueueId, bool Building, string? Result, long StartedAt, long Duration,
    IReadOnlyList<Cause> Causes, IReadOnlyList<ParameterValue>? Parameters, int Executor, string Workspace, string Node, string? ServerId);
