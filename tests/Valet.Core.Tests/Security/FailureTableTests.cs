using Microsoft.Extensions.Time.Testing;
using Valet.Core.Security;
using Xunit;

namespace Valet.Core.Tests.Security;

public sealed class FailureTableTests
{
    [Fact]
    public void Failures_expire_after_the_window_and_their_address_is_forgotten()
    {
        var time = new FakeTimeProvider();
        var table = new FailureTable(TimeSpan.FromSeconds(60), time);
        Assert.Equal(1, table.Record("10.0.0.1"));
        Assert.Equal(2, table.Record("10.0.0.1"));
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Empty(table.Recent("10.0.0.1"));
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void At_most_the_limit_of_addresses_is_kept_and_the_least_recently_failed_goes_first()
    {
        var time = new FakeTimeProvider();
        var table = new FailureTable(TimeSpan.FromSeconds(60), time, maxAddresses: 3);
        table.Record("10.0.0.1");
        table.Record("10.0.0.2");
        table.Record("10.0.0.3");
        table.Record("10.0.0.1");
        table.Record("10.0.0.4");
        Assert.Equal(3, table.Count);
        Assert.Empty(table.Recent("10.0.0.2"));
        Assert.Equal(2, table.Recent("10.0.0.1").Length);
    }

    [Fact]
    public void Ipv6_callers_of_one_64_prefix_share_one_entry_and_ipv4_stays_per_address()
    {
        var table = new FailureTable(TimeSpan.FromSeconds(60), new FakeTimeProvider());
        table.Record("2001:db8:1:2::1");
        table.Record("2001:db8:1:2:ffff:ffff:ffff:ffff");
        Assert.Equal(2, table.Recent("2001:db8:1:2::77").Length);
        Assert.Empty(table.Recent("2001:db8:1:3::1"));
        table.Record("10.0.0.1");
        Assert.Empty(table.Recent("10.0.0.2"));
        Assert.Equal(2, table.Count);
    }
}
