using Valet.Core.Triggers;
using Xunit;

namespace Valet.Core.Tests.Triggers;

public sealed class AuditJobLengthTests
{
    [Fact]
    public void A_job_over_256_characters_is_kept_as_256_ending_in_an_ellipsis()
    {
        var shortened = TriggerAudit.Shortened(new string('a', 5000))!;
        Assert.Equal(256, shortened.Length);
        Assert.EndsWith("…", shortened);
        Assert.Equal(new string('b', 256), TriggerAudit.Shortened(new string('b', 256)));
        Assert.Null(TriggerAudit.Shortened(null));
    }

    [Fact]
    public void The_cut_never_splits_a_surrogate_pair()
    {
        var shortened = TriggerAudit.Shortened(new string('a', 254) + "😀😀😀")!;
        Assert.False(char.IsHighSurrogate(shortened[^2]));
        Assert.EndsWith("…", shortened);
    }
}
