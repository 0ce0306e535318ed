using Valet.Core.Items;
using Valet.Core.Queue;
using Xunit;

namespace Valet.Core.Tests.Queue;

public sealed class QueueStatusTests
{
    const long Now = 1_767_225_600_000;

    static QueueItem Item(QueueState state = QueueState.Queued, long dueAt = Now) =>
        new(42, 7, state, dueAt, Now - 1000, null, [Cause.Scm], null, state == QueueState.Queued ? null : Now);

    static Item Job(bool concurrent = false) => new(7, null, "p", "p", new FreestyleJob { Concurrent = concurrent }, null, 3);

    [Theory]
    [InlineData(5000, "In the quiet period. Expires in 5 sec")]
    [InlineData(4500, "In the quiet period. Expires in 4.5 sec")]
    [InlineData(60_000, "In the quiet period. Expires in 60 sec")]
    public void An_item_before_its_due_time_is_waiting(long dueIn, string why)
    {
        var status = QueueStatus.Of(Item(dueAt: Now + dueIn), Job(), runningNumber: 2, Now);
        Assert.Equal(new QueueStatus(QueueStage.Waiting, why), status);
    }

    [Fact]
    public void A_due_item_of_a_non_concurrent_job_with_a_running_build_is_blocked() =>
        Assert.Equal(new QueueStatus(QueueStage.Blocked, "Build #2 is already in progress"), QueueStatus.Of(Item(), Job(), runningNumber: 2, Now));

    [Fact]
    public void A_due_item_of_a_concurrent_job_is_buildable_while_a_build_runs() =>
        Assert.Equal(QueueStage.Buildable, QueueStatus.Of(Item(), Job(concurrent: true), runningNumber: 2, Now).Stage);

    [Theory]
    [InlineData(0)]
    [InlineData(-60_000)]
    public void A_due_item_without_a_running_build_is_buildable(long dueIn) =>
        Assert.Equal(new QueueStatus(QueueStage.Buildable, "Waiting for next available executor"), QueueStatus.Of(Item(dueAt: Now + dueIn), Job(), null, Now));

    [Theory]
    [InlineData(QueueState.Left, QueueStage.Left)]
    [InlineData(QueueState.Cancelled, QueueStage.Cancelled)]
    public void Items_out_of_the_queue_say_so_whatever_their_due_time(QueueState state, QueueStage stage)
    {
        Assert.Equal(new QueueStatus(stage, null), QueueStatus.Of(Item(state, dueAt: Now + 5000), Job(), 2, Now));
        Assert.Equal(new QueueStatus(stage, null), QueueStatus.Of(Item(state), Job(), null, Now));
    }
}
