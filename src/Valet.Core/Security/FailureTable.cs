using System.Net;
using System.Net.Sockets;
using Valet.Core.Storage;

namespace Valet.Core.Security;

/// <summary>
/// Recent failures per client address for the guards, bounded (limits.md §2): failures expire after
/// the window, at most <see cref="MaxAddresses"/> addresses are kept (the one whose last failure is
/// oldest goes first), and IPv6 callers share one entry per /64, since one host owns a whole /64.
/// </summary>
/// <para>
/// Given a <see cref="Database"/> that several servers share, the table is theirs together: each
/// failure is announced to the other servers, which count it as their own, so a second server gives
/// an address no second budget. Guard state is short-lived by nature, so it is announced, not stored.
/// </para>
public sealed class FailureTable
{
    public const int MaxAddresses = 100_000;

    readonly TimeSpan window;
    readonly TimeProvider time;
    readonly int maxAddresses;
    readonly Database? db;
    readonly string? topic;

    public FailureTable(TimeSpan window, TimeProvider time, int maxAddresses = MaxAddresses, Database? db = null, string? name = null)
    {
        this.window = window;
        this.time = time;
        this.maxAddresses = maxAddresses;
        if (db is { Shared: true })
        {
            this.db = db;
            topic = "failure/" + name + "/";
            db.Announced += announced =>
            {
                if (announced.StartsWith(topic, StringComparison.Ordinal))
                    Add(announced[topic.Length..]);
            };
        }
    }

    sealed class Entry(string key)
    {
        public string Key => key;
        public Queue<long> Times { get; } = new();
        public long Last { get; set; }
    }

    readonly Dictionary<string, LinkedListNode<Entry>> entries = new(StringComparer.Ordinal);
    // Least recently failed first.
    readonly LinkedList<Entry> order = new();

    public int Count
    {
        get { lock (entries) return entries.Count; }
    }

    /// <summary>The key an address is counted under: itself, or its /64 for IPv6.</summary>
    public static string KeyOf(string address)
    {
        if (!IPAddress.TryParse(address, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6 || ip.IsIPv4MappedToIPv6)
            return address;
        var bytes = ip.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>Records a failure now; returns how many the address has within the window.</summary>
    public int Record(string address)
    {
        if (db is not null)
            _ = db.AnnounceAsync(topic + address);
        return Add(address);
    }

    int Add(string address)
    {
        var key = KeyOf(address);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (entries)
        {
            if (entries.TryGetValue(key, out var node))
                order.Remove(node);
            else
            {
                ExpireOldest(now);
                while (entries.Count >= maxAddresses && order.First is { } oldest)
                    Remove(oldest);
                node = new LinkedListNode<Entry>(new Entry(key));
                entries[key] = node;
            }
            order.AddLast(node);
            Expire(node.Value.Times, now);
            node.Value.Times.Enqueue(now);
            node.Value.Last = now;
            return node.Value.Times.Count;
        }
    }

    /// <summary>The address's failures within the window, oldest first, as Unix milliseconds.</summary>
    public long[] Recent(string address)
    {
        var key = KeyOf(address);
        lock (entries)
        {
            if (!entries.TryGetValue(key, out var node))
                return [];
            Expire(node.Value.Times, time.GetUtcNow().ToUnixTimeMilliseconds());
            if (node.Value.Times.Count == 0)
            {
                Remove(node);
                return [];
            }
            return [.. node.Value.Times];
        }
    }

    public TimeSpan Window => window;

    // The list is ordered by last failure, so expired entries sit at its front.
    void ExpireOldest(long now)
    {
        while (order.First is { } first && first.Value.Last + (long)window.TotalMilliseconds <= now)
            Remove(first);
    }

    void Remove(LinkedListNode<Entry> node)
    {
        order.Remove(node);
        entries.Remove(node.Value.Key);
    }

    void Expire(Queue<long> times, long now)
    {
        while (times.Count > 0 && times.Peek() + (long)window.TotalMilliseconds <= now)
            times.Dequeue();
    }
}
