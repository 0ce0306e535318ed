using System.Text;
using Valet.Server.Hosting;

namespace Valet.Server.RemoteApi;

/// <summary>Writes an <see cref="ApiObject"/> as `api/json` or `api/xml` with depth, tree, pretty and xpath.</summary>
public static class ApiResults
{
    public static IResult Render(HttpContext context, ApiObject model, string format)
    {
        var q = context.Request.Query;
        if (q.ContainsKey("jsonp"))
            return Http.Error(403, "jsonp", "jsonp is not supported");
        if (ApiRenderer.TryParse(q["depth"].FirstOrDefault(), q["tree"].FirstOrDefault(), out var options) is { } problem)
            return Http.Error(400, "bad-query", problem);
        context.Response.Headers["X-Frame-Options"] = "deny";
        if (format == "xml")
        {
            var doc = ApiRenderer.ToXml(model, options);
            if (q["xpath"].FirstOrDefault() is { } xpath)
            {
                return ApiRenderer.EvaluateXPath(doc, xpath, q["wrapper"].FirstOrDefault(), context.RequestAborted) switch
                {
                    XPathResult.Text t => Results.Text(t.Value, "text/plain;charset=UTF-8", Encoding.UTF8),
                    XPathResult.Xml x => Results.Text(x.Element.ToString(System.Xml.Linq.SaveOptions.DisableFormatting), "application/xml;charset=UTF-8", Encoding.UTF8),
                    XPathResult.NotFound => Http.Error(404, "no-match", "The XPath expression matched nothing"),
                    XPathResult.BadRequest b => Http.Error(400, "bad-xpath", b.Message),
                    XPathResult.TooExpensive t => Http.Error(400, "xpath-too-expensive", t.Message),
                    _ => throw new InvalidOperationException(),
                };
            }
            return Results.Text(doc.Root!.ToString(System.Xml.Linq.SaveOptions.DisableFormatting), "application/xml;charset=UTF-8", Encoding.UTF8);
        }
        var pretty = string.Equals(q["pretty"].FirstOrDefault(), "true", StringComparison.OrdinalIgnoreCase);
        return Results.Text(ApiRenderer.ToJson(model, options, pretty), "application/json; charset=utf-8", Encoding.UTF8);
    }
}
