using Microsoft.Extensions.Logging.Abstractions;
using Valet.Core;
using Valet.Core.Execution;
using Xunit;

namespace Valet.Core.Tests.Execution;

public sealed class ShellStepRunnerTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "valet-shell-step-" + Guid.NewGuid().ToString("N"));
    readonly ProcessGroups groups;
    readonly ShellStepRunner runner;

    public ShellStepRunnerTests()
    {
        Directory.CreateDirectory(Workspace);
        groups = new ProcessGroups(new ValetHome(Path.Combine(dir, "home")), NullLogger<ProcessGroups>.Instance);
        runner = new(new ProcessRunner(groups, NullLogger<ProcessRunner>.Instance));
    }

    string Workspace => Path.Combine(dir, "ws");
    string Log => Path.Combine(dir, "log");

    public void Dispose() => Directory.Delete(dir, recursive: true);

    async Task<(string Result, string Console)> RunAsync(string script, IReadOnlyDictionary<string, string>? environment = null, CancellationToken abort = default)
    {
        string result;
        await using (var console = new ConsoleWriter(Log, new SecretMasker([])))
            result = await runner.RunAsync(Step.Shell(script), new StepContext(Workspace, environment ?? new Dictionary<string, string>(), console), abort);
        return (result, await File.ReadAllTextAsync(Log, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_script_that_exits_0_succeeds_and_its_traced_output_reaches_the_console()
    {
        var (result, console) = await RunAsync("echo hello");
        Assert.Equal(BuildResult.Success, result);
        Assert.Equal("+ echo hello\nhello\n", console);
    }

    [Theory]
    [InlineData("exit 3", 3)]
    [InlineData("false\necho never", 1)]
    [InlineData("exit 255", 255)]
    public async Task A_non_zero_exit_fails_the_build_naming_the_exit_code(string script, int exit)
    {
        var (result, console) = await RunAsync(script);
        Assert.Equal(BuildResult.Failure, result);
        Assert.DoesNotContain("never\n", console, StringComparison.Ordinal);
        Assert.EndsWith($"Build step 'Execute shell' marked build as failure (exit code {exit})\n", console, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_script_runs_in_the_workspace_with_the_build_environment()
    {
        var (result, _) = await RunAsync("test \"$PWD\" = \"$EXPECTED\"\ntest \"$GREETING\" = hi", new Dictionary<string, string>
        {
            ["EXPECTED"] = Workspace,
            ["GREETING"] = "hi",
        });
        Assert.Equal(BuildResult.Success, result);
    }

    [Fact]
    public async Task An_abort_stops_the_script_and_ends_the_step_aborted()
    {
        using var abort = new CancellationTokenSource();
        var run = RunAsync("echo started\nsleep 300\necho never", abort: abort.Token);
        await Until.HoldsAsync(() => Task.FromResult(File.Exists(Log) && File.ReadAllText(Log).Contains("started\n", StringComparison.Ordinal)), "the script to start");
        await abort.CancelAsync();

        var (result, console) = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(BuildResult.Aborted, result);
        Assert.DoesNotContain("never\n", console, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_step_group_is_recorded_before_its_first_command_and_forgotten_when_it_ends()
    {
        // The step's shell is its group's leader: its record names its pid and its start time.
        var (result, console) = await RunAsync(
            $"read group start boot < \"{groups.Directory}/$$\"\n" +
            "test \"$group\" = \"$$\"\n" +
            "test \"$start\" = \"$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)\"\n" +
            "test \"$boot\" = \"$(cat /proc/sys/kernel/random/boot_id)\"\n" +
            "test \"$(ps -o pgid= -p $$ | tr -d ' ')\" = \"$$\"");
        Assert.True(BuildResult.Success == result, console);
        Assert.Empty(Directory.GetFiles(groups.Directory));
    }
}
