using Valet.Core.Queue;
using Xunit;

namespace Valet.Core.Tests.Queue;

public sealed class CauseTests
{
    public static TheoryData<Cause, string> Descriptions => new()
    {
        { Cause.Remote("127.0.0.1", null), "Started by remote host 127.0.0.1" },
        { Cause.Remote("127.0.0.1", ""), "Started by remote host 127.0.0.1" },
        { Cause.Remote("10.0.0.7", "nightly"), "Started by remote host 10.0.0.7 with note: nightly" },
        { Cause.User("alice", "Alice Example"), "Started by user Alice Example" },
        { Cause.Scm, "Started by an SCM change" },
        { Cause.Timer, "Started by timer" },
    };

    [Theory]
    [MemberData(nameof(Descriptions))]
    public void Each_cause_has_its_jenkins_short_description(Cause cause, string expected) => Assert.Equal(expected, cause.ShortDescription);

    [Fact]
    public void An_empty_note_is_no_note() => Assert.Null(Cause.Remote("10.0.0.7", "").Note);

    [Fact]
    public void Equal_causes_are_stored_once_with_a_count()
    {
        List<Cause> causes = [Cause.Remote("10.0.0.7", null)];
        Cause.Add(causes, Cause.Remote("10.0.0.7", null));
        Cause.Add(causes, Cause.Remote("10.0.0.7", ""));
        Assert.Equal(3, Assert.Single(causes).Count);
    }

    [Fact]
    public void Merging_adds_the_count_of_the_merged_cause()
    {
        List<Cause> merged = [Cause.Scm with { Count = 2 }];
        Cause.Add(merged, Cause.Scm with { Count = 3 });
        Assert.Equal(5, Assert.Single(merged).Count);
    }

    [Fact]
    public void Distinct_notes_and_addresses_are_kept_apart_in_order()
    {
        List<Cause> causes = [Cause.Remote("10.0.0.7", null)];
        Cause.Add(causes, Cause.Remote("10.0.0.7", "x"));
        Cause.Add(causes, Cause.Remote("10.0.0.8", null));
        Cause.Add(causes, Cause.Remote("10.0.0.7", "x"));
        Cause.Add(causes, Cause.Timer);
        Assert.Equal(
            [("10.0.0.7", null, 1), ("10.0.0.7", "x", 2), ("10.0.0.8", null, 1), (null, null, 1)],
            causes.Select(c => (c.Addr, c.Note, c.Count)));
    }

    [Fact]
    public void Causes_of_different_users_are_not_the_same() =>
        Assert.False(Cause.User("alice", "A").SameAs(Cause.User("bob", "A")));

    [Fact]
    public void Past_100_distinct_causes_a_new_one_is_only_counted_and_equal_ones_still_count_on_theirs()
    {
        List<Cause> causes = [];
        for (var i = 0; i < 103; i++)
            Cause.Add(causes, Cause.Remote("10.0.0.7", $"n{i}"));
        Cause.Add(causes, Cause.Remote("10.0.0.7", "n3"));
        Cause.Add(causes, Cause.Timer with { Count = 2 });

        var (kept, dropped) = Cause.Split(causes);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"n{i}"), kept.Select(c => c.Note));
        Assert.Equal(2, kept[3].Count);
        Assert.Equal(5, dropped);
    }

    [Fact]
    public void Merging_a_list_that_dropped_causes_keeps_its_count_and_the_cap()
    {
        List<Cause> other = [];
        for (var i = 0; i < 102; i++)
            Cause.Add(other, Cause.Remote("10.0.0.8", $"o{i}"));
        List<Cause> causes = [Cause.Scm];
        foreach (var c in other)
            Cause.Add(causes, c);

        var (kept, dropped) = Cause.Split(causes);
        Assert.Equal(100, kept.Count);
        Assert.DoesNotContain(kept, c => c.Kind == CauseKind.Dropped);
        Assert.Equal(3, dropped);
    }

    [Fact]
    public void A_list_that_dropped_nothing_splits_into_itself_and_zero()
    {
        List<Cause> causes = [Cause.Scm, Cause.Timer];
        Assert.Equal((causes, 0), Cause.Split(causes));
    }
}
