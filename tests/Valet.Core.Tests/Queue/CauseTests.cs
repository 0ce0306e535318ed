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
}
