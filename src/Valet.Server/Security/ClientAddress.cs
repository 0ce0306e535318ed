using System.Net;
using Valet.Core.Configuration;

namespace Valet.Server.Security;

/// <summary>
/// The client's address: the TCP peer, unless the peer is a trusted proxy, in which case the right-most
/// X-Forwarded-For entry that is not itself a trusted proxy.
/// </summary>
public sealed class ClientAddress(ServerSettings server)
{
    readonly IReadOnlyList<IPNetwork> trusted = server.TrustedProxies.Select(Parse).ToList();

    static IPNetwork Parse(string text) =>
        text.Contains('/', StringComparison.Ordinal) ? IPNetwork.Parse(text) : new IPNetwork(Normalize(IPAddress.Parse(text)), IPAddress.Parse(text).AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);

    static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    bool IsTrusted(IPAddress a) => trusted.Any(n => n.Contains(a));

    public bool FromTrustedProxy(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } peer && IsTrusted(Normalize(peer));

    public string Of(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress is { } p ? Normalize(p) : IPAddress.Loopback;
        if (!IsTrusted(peer))
            return peer.ToString();
        var forwarded = context.Request.Headers["X-Forwarded-For"].SelectMany(h => (h ?? "").Split(',')).Select(s => s.Trim()).ToList();
        for (var i = forwarded.Count - 1; i >= 0; i--)
        {
            if (!IPAddress.TryParse(forwarded[i], out var hop))
                return peer.ToString();
            hop = Normalize(hop);
            if (!IsTrusted(hop))
                return hop.ToString();
        }
        return peer.ToString();
    }
}
