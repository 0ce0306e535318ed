using System.Xml.Linq;

namespace Valet.Server.RemoteApi;

/// <summary>What <c>xpath=</c> gave: text/plain, an XML element, a 404 or a 400.</summary>
public abstract record XPathResult
{
    XPathResult() { }

    public sealed record Text(string Value) : XPathResult;

    public sealed record Xml(XElement Element) : XPathResult;

    public sealed record NotFound() : XPathResult;

    public sealed record BadRequest(string Message) : XPathResult;

    /// <summary>Too long, or over its evaluation budget (limits.md §1).</summary>
    public sealed record TooExpensive(string Message) : XPathResult;
}
