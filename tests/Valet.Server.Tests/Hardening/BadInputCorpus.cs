using System.Text;

namespace Valet.Server.Tests.Hardening;

/// <summary>How a request's body reaches the server.</summary>
public enum Delivery
{
    /// <summary>Head and body in one write.</summary>
    Whole,

    /// <summary>The body in small pieces with pauses between them.</summary>
    Slow,

    /// <summary>Fewer body bytes than announced, then the sending side is closed.</summary>
    Truncated,
}

/// <summary>One hostile request as the bytes that go on the wire.</summary>
/// <param name="Family">The endpoint family it aims at.</param>
/// <param name="Name">What is wrong with it, for the failure message.</param>
/// <param name="SignsInWrongly">Sends wrong credentials: counts toward the sign-in guard, so it runs last.</param>
public sealed record HostileRequest(string Family, string Name, byte[] Head, byte[] Body, Delivery Delivery = Delivery.Whole, bool SignsInWrongly = false)
{
    public override string ToString() => $"{Family}: {Name}";
}

/// <summary>The credentials the corpus may send: the admin's Basic header, a crumb and the crumb's session cookie.</summary>
public sealed record CorpusCredentials(string Host, string AdminBasic, string Crumb, string SessionCookie);

/// <summary>
/// Hostile requests against every endpoint family, written byte for byte so that nothing normalises
/// them: malformed, overlong and duplicated parameters and names, dot segments raw and encoded, NUL,
/// invalid UTF-8 and broken percent-encoding, 10,000 parameters, deep <c>tree</c> and <c>xpath</c>, huge
/// and odd headers, <c>Host</c> and <c>X-Forwarded-*</c> games, wrong methods and content types,
/// truncated and slow bodies. The server is set up with <see cref="Config"/>.
/// </summary>
public static class BadInputCorpus
{
    public const string Config = """
        server:
          executors: 2
          quietPeriod: 30
        security:
          permissions:
            admin: [Overall/Administer]
            anonymous: [Overall/Read, Job/Read]
        folders:
          - name: dir
        jobs:
          - name: p
            authToken: secret
            steps:
              - sh: echo p
          - name: now
            quietPeriod: 0
            authToken: secret
            steps:
              - sh: echo now
          - name: dir/q
            authToken: secret
          - name: withparams
            authToken: secret
            parameters:
              - { type: string, name: s, default: d, trim: true }
              - { type: text, name: t }
              - { type: boolean, name: b }
              - { type: choice, name: c, choices: [x, y] }
              - { type: password, name: pw }
        """;

    /// <summary>Values that break parsers: encodings, dot segments, control bytes, numbers out of range, lengths.</summary>
    static readonly string[] Values =
    [
        "", "..", "%2e%2e", "%2E%2E%2F%2E%2E", "..%2f..%2fetc%2fpasswd", "%00", "a%00b", "%ff%fe", "%c3%28", "%ed%a0%80",
        "%C0%AF", "%F0%9F%98%80", "%E2%80%AE", "%", "%zz", "%2", "%%", "+", "%0d%0aX-Injected:%201", "%3Cscript%3E",
        "%27%22", "-1", "99999999999999999999999", "1e9", "0x10", "NaN", "%20%20", "%09", "a%5Bb%5D", new string('x', 5000),
        "%u0041", "%7B%7D", "%5B%5B%5B", "dir%2F..%2Fp", "%2Fp", "p%2F", "%C3%A4rger", "9223372036854775807sec",
    ];

    /// <summary>Query parameters each family reads, with a well-formed query the hostile value is added to.</summary>
    static readonly (string Family, string Method, string Path, string Base, string[] Keys)[] Targets =
    [
        ("buildByToken/build", "POST", "/buildByToken/build", "job=p&token=secret", ["job", "token", "delay", "cause"]),
        ("buildByToken/buildWithParameters", "POST", "/buildByToken/buildWithParameters", "job=withparams&token=secret", ["job", "token", "s", "b", "c", "pw", "json"]),
        ("buildByToken/polling", "POST", "/buildByToken/polling", "job=p&token=secret", ["job", "token"]),
        ("job/build", "POST", "/job/p/build", "token=secret", ["token", "delay", "cause"]),
        ("job/buildWithParameters", "POST", "/job/withparams/buildWithParameters", "token=secret", ["c", "json", "delay"]),
        ("job/polling", "POST", "/job/p/polling", "token=secret", ["token"]),
        ("api/json", "GET", "/api/json", "", ["tree", "depth", "pretty"]),
        ("api/xml", "GET", "/api/xml", "", ["xpath", "wrapper", "depth", "tree"]),
        ("job/api/json", "GET", "/job/dir/api/json", "", ["tree", "depth"]),
        ("queue/api/json", "GET", "/queue/api/json", "", ["tree", "depth"]),
        ("queue/cancelItem", "POST", "/queue/cancelItem", "", ["id"]),
        ("createItem", "POST", "/createItem", "", ["name", "mode", "from"]),
        ("console", "GET", "/job/now/1/logText/progressiveText", "", ["start"]),
        ("login", "GET", "/login", "", ["from"]),
        ("whoAmI", "GET", "/whoAmI/api/xml", "", ["xpath", "tree"]),
    ];

    /// <summary>The path-shaped targets: names in URLs and their dot-segment and encoding tricks.</summary>
    static readonly string[] Paths =
    [
        "/job/../api/json", "/job/%2e%2e/api/json", "/job/%2E%2E/%2E%2E/api/json", "/job/p/../../api/json", "/job/p/%2e%2e/%2e%2e/healthz",
        "/job/%00/api/json", "/job/p%00/api/json", "/job/%ff/api/json", "/job/%c3%28/api/json", "/job/a%2fb/api/json", "/job/dir%2fq/api/json",
        "/job/dir/job/%2e%2e/job/p/api/json", "/job//api/json", "//job/p/api/json", "/job/p//api/json", "/job/p/api/json/",
        "/job/" + new string('a', 4097) + "/api/json", "/job/" + string.Concat(Enumerable.Repeat("a/job/", 70)) + "a/api/json",
        "/job/%25/api/json", "/job/%/api/json", "/job/p%2/api/json", "/view/all/job/%2e%2e/api/json", "/view/%2e%2e/api/json",
        "/job/p/-1/consoleText", "/job/p/99999999999999999999/api/json", "/job/now/0/consoleText", "/job/now/1%00/consoleText",
        "/job/now/01/consoleText", "/job/now/+1/consoleText", "/job/now/lastBuild%2f..%2f/api/json", "/job/now/lastbuild/api/json",
        "/job/now/1/logText/progressiveText?start=-1", "/job/now/1/logText/progressiveText?start=99999999999999999999",
        "/job/now/1/logText/progressiveText?start=abc", "/job/now/1/logText/progressiveText?start=1&start=2",
        "/queue/item/-1/api/json", "/queue/item/abc/api/json", "/queue/item/99999999999999999999/api/json", "/queue/item/%00/api/json",
        "/queue/item/1/api/yaml", "/queue/item/1e3/api/json", "/user/%2e%2e/api/json", "/user/admin%00/api/json", "/user/" + new string('u', 5000) + "/api/json",
        "/me/api/json?tree=" + new string('[', 50), "/me/tokens/api/json", "/me/tokens/%2e%2e/revoke", "/healthz/../api/json",
        "/healthz%00", "/HEALTHZ", "/healthz?x=%ff", "/whoAmI/api/JSON", "/whoAmI/api/json;jsessionid=1", "/crumbIssuer/api/xml?xpath=%2F%2F*",
        "/job/p/config.xml/../../api/json", "/job/p/scmPollLog?x=%00", "/job/p/tokens/api/json", "/audit/api/json?depth=99",
        "/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/job/p/ws/..%2f..%2f..%2fetc%2fpasswd",
    ];

    /// <summary>
    /// Every request of the corpus, in a fixed order; the requests that send wrong credentials
    /// (<see cref="HostileRequest.SignsInWrongly"/>) come last.
    /// </summary>
    public static IReadOnlyList<HostileRequest> Generate(CorpusCredentials who)
    {
        var all = new List<HostileRequest>();
        var admin = Admin(who);

        // Every parameter a family reads, with every hostile value, alone and duplicated.
        foreach (var (family, method, path, query, keys) in Targets)
        {
            var headers = family is "createItem" or "queue/cancelItem" ? admin : [];
            foreach (var key in keys)
                foreach (var value in Values)
                    all.Add(Request(family, $"{key}={Shorten(value)}", method, path + "?" + Join(query, $"{key}={value}"), who, headers));
            foreach (var key in keys)
                all.Add(Request(family, $"{key} twice", method, path + "?" + Join(query, $"{key}=1&{key}=2&{key}=%2e%2e"), who, headers));
        }

        foreach (var path in Paths)
        {
            all.Add(Request("paths", path.Length > 80 ? path[..80] + "…" : path, "GET", path, who, []));
            all.Add(Request("paths", "as admin " + (path.Length > 70 ? path[..70] + "…" : path), "GET", path, who, admin));
        }

        all.AddRange(RawTargets(who));
        all.AddRange(ManyParameters(who, admin));
        all.AddRange(DeepTreeAndXPath(who));
        all.AddRange(Headers(who));
        all.AddRange(Methods(who, admin));
        all.AddRange(Bodies(who, admin));
        all.AddRange(BuildsAndQueue(who, admin));
        all.AddRange(WrongSignIns(who));
        return [.. all.Where(r => !r.SignsInWrongly), .. all.Where(r => r.SignsInWrongly)];
    }

    static (string, string)[] Admin(CorpusCredentials who) =>
        [("Authorization", who.AdminBasic), ("Jenkins-Crumb", who.Crumb), ("Cookie", $"valet_session={who.SessionCookie}")];

    static string Join(string query, string extra) => query.Length == 0 ? extra : query + "&" + extra;

    static string Shorten(string value) => value.Length > 40 ? $"{value[..10]}…({value.Length})" : value;

    /// <summary>Request targets no client library would send: raw bytes, absolute and asterisk forms, bad versions.</summary>
    static IEnumerable<HostileRequest> RawTargets(CorpusCredentials who)
    {
        byte[][] lines =
        [
            Latin1("GET /job/\xff\xfe/api/json HTTP/1.1"), Latin1("GET /job/p\0/api/json HTTP/1.1"), Latin1("GET /api/json?tree=\xc3\x28 HTTP/1.1"),
            Latin1("GET /buildByToken/build?job=\xed\xa0\x80&token=x HTTP/1.1"), Latin1("GET http://evil.example/api/json HTTP/1.1"),
            Latin1("GET * HTTP/1.1"), Latin1("OPTIONS * HTTP/1.1"), Latin1("GET api/json HTTP/1.1"), Latin1("GET /api/json HTTP/9.9"),
            Latin1("GET /api/json HTTP/1.0"), Latin1("GET /api/json"), Latin1("GET  /api/json  HTTP/1.1"), Latin1("GET /api/json HTTP/1.1 extra"),
            Latin1("GET /job/p/api/json#frag HTTP/1.1"), Latin1("GET /job/p\\..\\..\\api/json HTTP/1.1"), Latin1("GET /job/p/api/json?\x01=\x7f HTTP/1.1"),
            Latin1("POST /buildByToken/build?job=p&token=secret\r HTTP/1.1"), Latin1("get /healthz HTTP/1.1"), Latin1("G\0T /healthz HTTP/1.1"),
            Latin1("GET /" + new string('a', 20_000) + " HTTP/1.1"), Latin1("GET /api/json?" + new string('q', 9000) + " HTTP/1.1"),
            Latin1("GET /job/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd/api/json HTTP/1.1"), Latin1("\r\nGET /healthz HTTP/1.1"),
        ];
        foreach (var line in lines)
        {
            var head = Concat(line, Latin1($"\r\nHost: {who.Host}\r\nConnection: close\r\n\r\n"));
            yield return new("raw targets", Encoding.Latin1.GetString(line[..Math.Min(line.Length, 60)]), head, []);
        }
        yield return new("raw targets", "no request line", Latin1($"Host: {who.Host}\r\n\r\n"), []);
        yield return new("raw targets", "binary garbage", [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0, 0, 0, 0, 0x0d, 0x0a, 0x0d, 0x0a], []);
        yield return new("raw targets", "HTTP/2 preface on HTTP/1.1", Latin1("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), []);
        yield return new("raw targets", "only LF line ends", Latin1($"GET /healthz HTTP/1.1\nHost: {who.Host}\nConnection: close\n\n"), []);
    }

    /// <summary>Duplicates by the thousand: 10,000 parameters in a query, a form and a multipart body.</summary>
    static IEnumerable<HostileRequest> ManyParameters(CorpusCredentials who, (string, string)[] admin)
    {
        var tenThousand = string.Join('&', Enumerable.Range(0, 10_000).Select(i => $"p{i}={i}"));
        var sameName = string.Join('&', Enumerable.Repeat("s=1", 10_000));
        var jobs = string.Join('&', Enumerable.Repeat("job=p", 10_000));
        foreach (var (family, path, auth) in new[]
        {
            ("buildByToken/buildWithParameters", "/buildByToken/buildWithParameters?job=withparams&token=secret", Array.Empty<(string, string)>()),
            ("buildByToken/build", "/buildByToken/build", []),
            ("job/buildWithParameters", "/job/withparams/buildWithParameters?token=secret", []),
            ("job/build", "/job/p/build", admin),
            ("createItem", "/createItem?name=x", admin),
            ("login", "/login", []),
        })
        {
            yield return Request(family, "10,000 distinct form fields", "POST", path, who, auth, Form(tenThousand));
            yield return Request(family, "10,000 fields of one name", "POST", path, who, auth, Form(sameName));
            yield return Request(family, "10,000 job fields", "POST", path, who, auth, Form(jobs));
            yield return Request(family, "10,000 query parameters", "POST", path + (path.Contains('?') ? "&" : "?") + tenThousand, who, auth);
            yield return Request(family, "2,000 multipart parts", "POST", path, who, auth, Multipart(Enumerable.Range(0, 2000).Select(i => ("s", $"{i}"))), "multipart/form-data; boundary=b");
        }
        yield return Request("api/json", "10,000 tree parameters", "GET", "/api/json?" + string.Join('&', Enumerable.Repeat("tree=jobs", 10_000)), who, []);
        yield return Request("api/json", "query of 7,000 ampersands", "GET", "/api/json?" + new string('&', 7000), who, []);
        yield return Request("api/json", "query of 7,000 equals signs", "GET", "/api/json?" + new string('=', 7000), who, []);
    }

    static IEnumerable<HostileRequest> DeepTreeAndXPath(CorpusCredentials who)
    {
        string[] trees =
        [
            Nest(11), Nest(100), Nest(500), new string('[', 1000), new string(']', 1000), string.Join(',', Enumerable.Repeat("a", 512)),
            "jobs{0,2147483647}", "jobs{2147483647}", "jobs{-1}", "jobs{2,1}", "jobs{,}", "jobs{99999999999}", "jobs[name]{1,2}{3}",
            "jobs[", "jobs]", "jobs[]", ",", ",,,", "jobs[name,,]", "jobs{", "jobs}", "jobs [ name ] { 0 , 1 }", "%00", "jobs[%ff]",
            new string('a', 1024), new string('a', 1025), "jobs[" + new string(' ', 1000) + "]", "*", "jobs[*]",
        ];
        foreach (var tree in trees)
            foreach (var path in new[] { "/api/json", "/api/xml", "/queue/api/json", "/job/now/api/json", "/job/now/1/api/json", "/whoAmI/api/json", "/computer/api/json" })
                yield return Request("tree", $"{path} tree={Shorten(tree)}", "GET", $"{path}?tree={Uri.EscapeDataString(tree)}", who, []);

        var exponential = "count(//*[count(//*[count(//*[count(//*[count(//*)])])])])";
        string[] xpaths =
        [
            exponential, new string('/', 1025), string.Concat(Enumerable.Repeat("/*", 512)), "//*[" + Nest(200).Replace("a[", "a[*") + "]",
            "(((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))", string.Concat(Enumerable.Repeat("(", 1000)),
            "concat(" + string.Join(',', Enumerable.Repeat("string(//*)", 100)) + ")", "//*[name()=substring('aaaa',1,1000000000)]",
            "document('/etc/passwd')", "//namespace::*", "/", "", "1 div 0", "-1", "//@*", "/*/*[last()]/..//node()",
            "//*[position() < 99999999999999999999]", "translate(//*, 'a', 'b')", "string-length(string(/))", "//text()", "processing-instruction()",
            "/*[", "]]]", "\0", "id('x')", "key('a','b')", "system-property('xsl:version')", "count(//*)*count(//*)*count(//*)",
        ];
        foreach (var xpath in xpaths)
            foreach (var path in new[] { "/api/xml", "/whoAmI/api/xml", "/queue/api/xml", "/job/now/1/api/xml" })
                yield return Request("xpath", $"{path} xpath={Shorten(xpath)}", "GET", $"{path}?xpath={Uri.EscapeDataString(xpath)}&wrapper=w", who, []);

        foreach (var wrapper in new[] { "", "<", "a b", "1a", "a%00", new string('w', 2000), "xml", "a:b:c" })
            yield return Request("xpath", $"wrapper={Shorten(wrapper)}", "GET", $"/api/xml?xpath=%2F%2Fjob&wrapper={Uri.EscapeDataString(wrapper)}", who, []);
        foreach (var depth in new[] { "11", "-1", "2147483648", "99999999999999999999", "1.5", " 1", "%00", "" })
            yield return Request("depth", $"depth={depth}", "GET", $"/api/json?depth={depth}", who, []);
    }

    static string Nest(int levels) => string.Concat(Enumerable.Repeat("a[", levels)) + "b" + new string(']', levels);

    /// <summary>Huge, duplicated, malformed and lying headers; Host and X-Forwarded-* games.</summary>
    static IEnumerable<HostileRequest> Headers(CorpusCredentials who)
    {
        (string Name, string Header)[] odd =
        [
            ("16 KiB header value", "X-Big: " + new string('h', 16 * 1024)), ("40 KiB header value", "X-Big: " + new string('h', 40 * 1024)),
            ("300 headers", string.Join("\r\n", Enumerable.Range(0, 300).Select(i => $"X-H{i}: {i}"))),
            ("header without colon", "NoColon"), ("header with NUL", "X-Nul: a\0b"), ("obsolete line folding", "X-Fold: a\r\n b"),
            ("space before colon", "X-Space : a"), ("empty header name", ": value"), ("header name with UTF-8", "X-\xc3\xa4: a"),
            ("header value with invalid UTF-8", "X-Bad: \xff\xfe\xc3\x28"), ("two Hosts", "Host: other.example"),
            ("X-Forwarded-For garbage", "X-Forwarded-For: not-an-address, ::::, 999.999.1.1, [::1]:80"),
            ("X-Forwarded-For of 1,000 entries", "X-Forwarded-For: " + string.Join(", ", Enumerable.Range(0, 1000).Select(i => $"10.0.{i / 256}.{i % 256}"))),
            ("X-Forwarded-Proto javascript", "X-Forwarded-Proto: javascript"), ("X-Forwarded-Proto list", "X-Forwarded-Proto: https, http, ftp"),
            ("X-Forwarded-Host evil", "X-Forwarded-Host: evil.example"), ("X-Forwarded-Host with path", "X-Forwarded-Host: evil.example/x?y"),
            ("X-Forwarded-Host empty", "X-Forwarded-Host: "), ("X-Forwarded-Prefix traversal", "X-Forwarded-Prefix: /../../x"),
            ("X-Forwarded-Port huge", "X-Forwarded-Port: 99999999999"), ("Forwarded header", "Forwarded: for=\"[::1\";proto=gopher;host=\"a b\""),
            ("X-Real-IP garbage", "X-Real-IP: %00"), ("X-Original-URL override", "X-Original-URL: /job/p/config.xml"),
            ("X-HTTP-Method-Override", "X-HTTP-Method-Override: DELETE"),
            ("Authorization Basic garbage", "Authorization: Basic !!!not-base64!!!"), ("Authorization Basic no colon", "Authorization: Basic " + B64("admin")),
            ("Authorization Basic empty", "Authorization: Basic "), ("Authorization Basic invalid UTF-8", "Authorization: Basic " + Convert.ToBase64String([0xff, 0x3a, 0xfe])),
            ("Authorization Basic huge", "Authorization: Basic " + B64(new string('u', 6000) + ":x")), ("Authorization Bearer", "Authorization: Bearer x.y.z"),
            ("Authorization unknown scheme", "Authorization: Negotiate YII="), ("Authorization twice", "Authorization: Basic " + B64("a:b") + "\r\nAuthorization: Basic " + B64("c:d")),
            ("Cookie malformed", "Cookie: ;;;=;valet_session;=x;valet_session=\xff"), ("Cookie huge", "Cookie: valet_session=" + new string('c', 8000)),
            ("Cookie sign-in forged", "Cookie: valet_signin=../../x; valet_session=%00"), ("Accept odd", "Accept: */*;q=nan, application/json;q=-1, text/*;q=2"),
            ("Accept huge", "Accept: " + string.Join(", ", Enumerable.Repeat("a/b;q=0.1", 2000))), ("Accept-Charset odd", "Accept-Charset: utf-1024"),
            ("If-Modified-Since bogus", "If-Modified-Since: yesterday"), ("Range bogus", "Range: bytes=99999999999999999999-1"),
            ("Range many", "Range: bytes=" + string.Join(',', Enumerable.Range(0, 500).Select(i => $"{i}-{i}"))),
            ("Idempotency-Key control", "Idempotency-Key: a\u0001b"), ("Idempotency-Key huge", "Idempotency-Key: " + new string('k', 6000)),
            ("X-Build-Token odd", "X-Build-Token: \xc3\x28"), ("Jenkins-Crumb huge", "Jenkins-Crumb: " + new string('0', 6000)),
            ("Expect 100-continue", "Expect: 100-continue"), ("Expect unknown", "Expect: 999-weird"), ("Connection upgrade", "Connection: Upgrade\r\nUpgrade: websocket"),
            ("Content-Encoding gzip lie", "Content-Encoding: gzip"), ("TE trailers", "TE: trailers, deflate;q=0.5"),
        ];
        string[] paths = ["/healthz", "/api/json", "/whoAmI/api/json", "/buildByToken/build?job=p&token=secret", "/login", "/crumbIssuer/api/json", "/job/now/1/consoleText"];
        foreach (var (name, header) in odd)
            foreach (var path in paths)
            {
                var method = path.StartsWith("/buildByToken", StringComparison.Ordinal) ? "POST" : "GET";
                yield return new("headers", $"{path} {name}", Latin1($"{method} {path} HTTP/1.1\r\nHost: {who.Host}\r\n{header}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), [],
                    SignsInWrongly: header.StartsWith("Authorization", StringComparison.Ordinal) || header.Contains("valet_signin", StringComparison.Ordinal));
            }

        string[] hosts = ["", "evil.example", "evil.example:99999", "a b", "[::1", "127.0.0.1:-1", "\xc3\xa4.example", "x@evil.example", new string('h', 5000), "localhost:80:80"];
        foreach (var host in hosts)
            foreach (var path in new[] { "/api/json", "/buildByToken/build?job=now&token=secret", "/login?from=%2F%2Fevil.example" })
            {
                var method = path.StartsWith("/buildByToken", StringComparison.Ordinal) ? "POST" : "GET";
                yield return new("host", $"Host: {Shorten(host)} {path}", Latin1($"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), []);
            }
        yield return new("host", "no Host", Latin1("GET /api/json HTTP/1.1\r\nConnection: close\r\n\r\n"), []);
    }

    /// <summary>Every family with methods it does not take, made-up methods and the wrong case.</summary>
    static IEnumerable<HostileRequest> Methods(CorpusCredentials who, (string, string)[] admin)
    {
        string[] paths =
        [
            "/buildByToken/build?job=p&token=secret", "/buildByToken/buildWithParameters?job=withparams&token=secret", "/buildByToken/polling?job=p&token=secret",
            "/job/p/build", "/job/withparams/buildWithParameters", "/job/p/polling", "/api/json", "/api/xml", "/queue/api/json", "/queue/item/1/cancelQueue",
            "/createItem?name=m", "/job/p/config.xml", "/job/p/config.json", "/crumbIssuer/api/json", "/whoAmI/api/json", "/me/api/json", "/login", "/logout",
            "/healthz", "/job/now/1/consoleText", "/job/now/1/logText/progressiveText", "/job/now/1/stop", "/job/p/doDelete", "/job/p/description",
        ];
        string[] methods = ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "FOO", "get", "HEAD"];
        foreach (var path in paths)
            foreach (var method in methods)
            {
                // Destructive methods as the admin would really delete or rewrite; anonymous shows the refusal path.
                yield return Request("methods", $"{method} {path}", method, path, who, []);
            }
        foreach (var path in paths)
            yield return Request("methods", $"GET as admin {path}", "GET", path, who, admin);
    }

    /// <summary>Wrong, lying and hostile bodies: content types, XML, JSON, forms, multipart, truncated and slow.</summary>
    static IEnumerable<HostileRequest> Bodies(CorpusCredentials who, (string, string)[] admin)
    {
        var laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
            <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
            <project><description>&lol4;</description></project>
            """;
        var external = """<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><project><description>&x;</description></project>""";
        (string Name, string ContentType, byte[] Body)[] xmlBodies =
        [
            ("billion laughs", "application/xml", Utf8(laughs)), ("external entity", "application/xml", Utf8(external)),
            ("not XML", "application/xml", Utf8("not xml at all")), ("truncated XML", "application/xml", Utf8("<project><description>")),
            ("XML with NUL", "application/xml", Utf8("<project><description>a\0b</description></project>")),
            ("XML in invalid UTF-8", "application/xml", [.. Utf8("<project><description>"), 0xff, 0xfe, 0xc3, 0x28, .. Utf8("</description></project>")]),
            ("XML declared UTF-16, sent UTF-8", "application/xml", Utf8("<?xml version=\"1.0\" encoding=\"UTF-16\"?><project/>")),
            ("XML nested 10,000 deep", "application/xml", Utf8("<project>" + string.Concat(Enumerable.Repeat("<a>", 10_000)) + string.Concat(Enumerable.Repeat("</a>", 10_000)) + "</project>")),
            ("XML of another root", "application/xml", Utf8("<matrix-project><builders/></matrix-project>")),
            ("XML with 10,000 attributes", "application/xml", Utf8("<project " + string.Join(' ', Enumerable.Range(0, 10_000).Select(i => $"a{i}=\"1\"")) + "/>")),
            ("XML as JSON content type", "application/json", Utf8("<project/>")), ("JSON as XML", "application/xml", Utf8("{\"a\":1}")),
            ("XML over 1 MiB", "application/xml", Utf8("<project><description>" + new string('d', 1100 * 1024) + "</description></project>")),
            ("empty XML body", "application/xml", []), ("XML with bogus charset", "application/xml; charset=ebcdic-xx", Utf8("<project/>")),
            ("XML with a bad project name element", "application/xml", Utf8("<project><name>..</name><disabled>maybe</disabled><quietPeriod>-99999999999</quietPeriod></project>")),
            ("XML with hostile parameters", "application/xml", Utf8("""<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions><hudson.model.StringParameterDefinition><name>job</name></hudson.model.StringParameterDefinition><hudson.model.ChoiceParameterDefinition><name>1x</name><choices/></hudson.model.ChoiceParameterDefinition></parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties></project>""")),
        ];
        foreach (var (name, type, body) in xmlBodies)
        {
            yield return Request("config.xml", name, "POST", "/job/dir/job/q/config.xml", who, admin, body, type);
            foreach (var itemName in new[] { "fresh", "..", "%2e%2e", "a%00b", "%C3%A4", new string('n', 300), "a/b", "" })
                yield return Request("createItem", $"{name} named {Shorten(itemName)}", "POST", $"/createItem?name={itemName}", who, admin, body, type);
        }
        foreach (var name in new[] { "..", "%2e%2e", "x%0ay", "%ff", "a%2fb", " lead", "trail ", "CON", "p", "P", "dir" })
            yield return Request("createItem", $"name={name} in a folder", "POST", $"/job/dir/createItem?name={name}", who, admin, Utf8("<project/>"), "application/xml");
        yield return Request("createItem", "copy from a traversal", "POST", "/createItem?name=copy&mode=copy&from=../../p", who, admin);
        yield return Request("createItem", "copy from itself", "POST", "/createItem?name=p&mode=copy&from=p", who, admin);
        yield return Request("createItem", "anonymous", "POST", "/createItem?name=anon", who, [], Utf8("<project/>"), "application/xml");

        (string Name, string ContentType, byte[] Body)[] jsonBodies =
        [
            ("not JSON", "application/json", Utf8("{")), ("deep JSON", "application/json", Utf8(new string('[', 10_000) + new string(']', 10_000))),
            ("JSON with NUL", "application/json", Utf8("{\"description\":\"a\\u0000b\"}")), ("JSON of wrong types", "application/json", Utf8("{\"parameters\":7,\"disabled\":\"x\",\"quietPeriod\":1e999}")),
            ("JSON lone surrogate", "application/json", Utf8("{\"description\":\"\\ud800\"}")), ("JSON duplicate keys", "application/json", Utf8("{\"description\":1,\"description\":2}")),
            ("JSON with invalid UTF-8", "application/json", [.. Utf8("{\"description\":\""), 0xff, 0xc3, 0x28, .. Utf8("\"}")]),
        ];
        foreach (var (name, type, body) in jsonBodies)
        {
            yield return Request("config.json", name, "PUT", "/job/dir/job/q/config.json", who, admin, body, type);
            yield return Request("config.json", name + " for a new item", "PUT", "/job/dir/job/fresh/config.json", who, admin, body, type);
        }

        var jsonParams = new[]
        {
            "{", "[]", "null", "{\"parameter\":7}", "{\"parameter\":[{\"name\":7}]}", "{\"parameter\":[{\"name\":\"s\",\"value\":{\"a\":[1,2]}}]}",
            "{\"parameter\":[{\"name\":\"s\"},{\"name\":\"s\"}]}", "{\"parameter\":{\"name\":\"nope\"}}", new string('[', 5000),
            "{\"parameter\":[" + string.Join(',', Enumerable.Repeat("{\"name\":\"s\",\"value\":\"1\"}", 5000)) + "]}",
            "{\"parameter\":[{\"name\":\"c\",\"value\":\"z\"}]}", "{\"parameter\":[{\"name\":\"b\",\"value\":1e999}]}",
        };
        foreach (var json in jsonParams)
        {
            var form = Form("json=" + Uri.EscapeDataString(json));
            yield return Request("buildByToken/buildWithParameters", $"json={Shorten(json)}", "POST", "/buildByToken/buildWithParameters?job=withparams&token=secret", who, [], form);
            yield return Request("job/buildWithParameters", $"json={Shorten(json)}", "POST", "/job/withparams/buildWithParameters", who, admin, form);
        }

        string[] tokenPaths = ["/buildByToken/build?job=p&token=secret", "/buildByToken/buildWithParameters?job=withparams&token=secret", "/login", "/job/p/description", "/queue/item/1/cancelQueue"];
        (string Name, string ContentType, byte[] Body)[] forms =
        [
            ("form with bad percent-encoding", "application/x-www-form-urlencoded", Utf8("s=%zz&c=%&b=%2")), ("form with NUL", "application/x-www-form-urlencoded", Utf8("s=a%00b&cause=%00")),
            ("form with invalid UTF-8", "application/x-www-form-urlencoded", [.. Utf8("s="), 0xff, 0xfe, .. Utf8("&cause="), 0xc3, 0x28]),
            ("form with a 100 KiB key", "application/x-www-form-urlencoded", Utf8(new string('k', 100 * 1024) + "=v")),
            ("form with a 900 KiB value", "application/x-www-form-urlencoded", Utf8("s=" + new string('v', 900 * 1024))),
            ("form over 1 MiB", "application/x-www-form-urlencoded", Utf8("s=" + new string('v', 1100 * 1024))),
            ("form with charset UTF-16", "application/x-www-form-urlencoded; charset=utf-16", Utf8("s=1")),
            ("form with bogus charset", "application/x-www-form-urlencoded; charset=nope", Utf8("s=1")),
            ("multipart without boundary", "multipart/form-data", Utf8("--x\r\n\r\n--x--")),
            ("multipart with empty boundary", "multipart/form-data; boundary=", Utf8("--\r\n\r\n----")),
            ("multipart with a 500-byte boundary", "multipart/form-data; boundary=" + new string('b', 500), Utf8("--b\r\n")),
            ("multipart never closed", "multipart/form-data; boundary=x", Utf8("--x\r\nContent-Disposition: form-data; name=\"s\"\r\n\r\nvalue")),
            ("multipart with a file part", "multipart/form-data; boundary=x", Utf8("--x\r\nContent-Disposition: form-data; name=\"s\"; filename=\"../../etc/passwd\"\r\n\r\nroot\r\n--x--\r\n")),
            ("multipart with bad disposition", "multipart/form-data; boundary=x", Utf8("--x\r\nContent-Disposition: \0;;;name=\r\n\r\nv\r\n--x--\r\n")),
            ("multipart with 20 KiB part headers", "multipart/form-data; boundary=x", Utf8("--x\r\nX-H: " + new string('h', 20 * 1024) + "\r\n\r\nv\r\n--x--\r\n")),
            ("JSON as a form", "application/json", Utf8("{\"job\":\"p\",\"token\":\"secret\"}")), ("text/plain", "text/plain", Utf8("job=p&token=secret")),
            ("content type garbage", "\xff/\xfe; ;; =", Utf8("s=1")), ("content type with 1,000 parameters", "application/x-www-form-urlencoded" + string.Concat(Enumerable.Repeat("; a=b", 1000)), Utf8("s=1")),
        ];
        foreach (var (name, type, body) in forms)
            foreach (var path in tokenPaths)
                yield return Request("bodies", $"{path} {name}", "POST", path, who, path.StartsWith("/buildByToken", StringComparison.Ordinal) ? [] : admin, body, type);

        // Framing lies: Kestrel must answer or close, never hand a handler a half request that turns into a 500.
        string[] framingPaths = ["/buildByToken/buildWithParameters?job=withparams&token=secret", "/job/dir/job/q/config.xml", "/createItem?name=framed", "/login", "/job/p/description"];
        foreach (var path in framingPaths)
        {
            var auth = path.StartsWith("/buildByToken", StringComparison.Ordinal) ? "" : HeaderLines(admin);
            var start = $"POST {path} HTTP/1.1\r\nHost: {who.Host}\r\n{auth}Connection: close\r\n";
            yield return new("framing", $"{path} truncated body", Latin1(start + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"), Utf8("s=truncated&c=x"), Delivery.Truncated);
            yield return new("framing", $"{path} truncated XML", Latin1(start + "Content-Type: application/xml\r\nContent-Length: 5000\r\n\r\n"), Utf8("<project><description>"), Delivery.Truncated);
            yield return new("framing", $"{path} truncated chunked body", Latin1(start + "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"), Utf8("10\r\ns=abc"), Delivery.Truncated);
            yield return new("framing", $"{path} slow body", Latin1(start + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 12\r\n\r\n"), Utf8("s=slow&c=x&b"), Delivery.Slow);
            yield return new("framing", $"{path} slow XML", Latin1(start + "Content-Type: application/xml\r\nContent-Length: 25\r\n\r\n"), Utf8("<project><disabled>true<"), Delivery.Truncated);
            yield return new("framing", $"{path} bad chunk size", Latin1(start + "Content-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n"), Utf8("zz\r\nabc\r\n0\r\n\r\n"));
            yield return new("framing", $"{path} chunk size overflow", Latin1(start + "Transfer-Encoding: chunked\r\n\r\n"), Utf8("ffffffffffffffffff\r\nabc\r\n0\r\n\r\n"));
            yield return new("framing", $"{path} Content-Length and chunked", Latin1(start + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), Utf8("3\r\nabc\r\n0\r\n\r\n"));
            yield return new("framing", $"{path} two Content-Lengths", Latin1(start + "Content-Length: 3\r\nContent-Length: 5\r\n\r\n"), Utf8("abcde"));
            yield return new("framing", $"{path} negative Content-Length", Latin1(start + "Content-Length: -1\r\n\r\n"), []);
            yield return new("framing", $"{path} Content-Length not a number", Latin1(start + "Content-Length: abc\r\n\r\n"), []);
            yield return new("framing", $"{path} huge Content-Length", Latin1(start + "Content-Length: 99999999999999999999\r\n\r\n"), Utf8("s=1"), Delivery.Truncated);
            yield return new("framing", $"{path} unknown Transfer-Encoding", Latin1(start + "Transfer-Encoding: gzip, chunked, br\r\n\r\n"), Utf8("0\r\n\r\n"));
            yield return new("framing", $"{path} body longer than announced", Latin1(start + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\n"), Utf8("s=1GET /healthz HTTP/1.1\r\n\r\n"));
        }
    }

    /// <summary>The build, queue, console and stop URLs with names and numbers that do not fit.</summary>
    static IEnumerable<HostileRequest> BuildsAndQueue(CorpusCredentials who, (string, string)[] admin)
    {
        string[] ids = ["0", "-1", "1", "2", "999999", "99999999999999999999", "abc", "%00", "1%2e0", "+1", "0x1", "1 ", "%2e%2e"];
        foreach (var id in ids)
        {
            yield return Request("queue/cancelQueue", $"item {id}", "POST", $"/queue/item/{id}/cancelQueue", who, admin);
            yield return Request("queue/cancelQueue", $"item {id} anonymous", "POST", $"/queue/item/{id}/cancelQueue", who, []);
            yield return Request("queue/item", $"item {id}", "GET", $"/queue/item/{id}/api/json?tree=why,cancelled", who, []);
            yield return Request("stop", $"build {id}", "POST", $"/job/now/{id}/stop", who, admin);
            yield return Request("console", $"build {id}", "GET", $"/job/now/{id}/consoleText", who, []);
            yield return Request("console", $"build {id} progressive", "POST", $"/job/now/{id}/logText/progressiveText", who, admin, Form("start=" + id));
        }
        foreach (var job in new[] { "..", "%2e%2e", "now%00", "%ff", "dir/job/..", new string('j', 5000) })
        {
            yield return Request("stop", $"job {Shorten(job)}", "POST", $"/job/{job}/1/stop", who, admin);
            yield return Request("console", $"job {Shorten(job)}", "GET", $"/job/{job}/lastBuild/consoleText", who, []);
        }
        yield return Request("stop", "stop without a crumb", "POST", "/job/now/1/stop", who, [("Authorization", who.AdminBasic)]);
        yield return Request("stop", "stop with a wrong crumb", "POST", "/job/now/1/stop", who, [("Authorization", who.AdminBasic), ("Jenkins-Crumb", "00"), ("Cookie", $"valet_session={who.SessionCookie}")]);
        yield return Request("me", "generate a token with a hostile name", "POST", "/me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken", who, admin, Form("newTokenName=%00%ff" + new string('n', 3000)));
        yield return Request("me", "revoke a hostile uuid", "POST", "/me/descriptorByName/jenkins.security.ApiTokenProperty/revoke", who, admin, Form("tokenUuid=%2e%2e%2f%00"));
        yield return Request("me", "tokens with a hostile body", "POST", "/me/tokens", who, admin, Utf8("{\"name\":" + new string('[', 3000) + "}"), "application/json");
        yield return Request("me", "revoke a missing token", "POST", "/me/tokens/%2e%2e/revoke", who, admin);
        yield return Request("me", "another user's token", "POST", "/user/%00/tokens", who, admin, Utf8("{}"), "application/json");
        yield return Request("job tokens", "token with a hostile name", "POST", "/job/p/tokens/", who, admin, Utf8("{\"name\":\"\\u0000" + new string('t', 3000) + "\"}"), "application/json");
        yield return Request("job tokens", "revoke a traversal", "POST", "/job/p/tokens/..%2f..%2f/revoke", who, admin);
        yield return Request("description", "hostile description", "POST", "/job/p/description", who, admin, Form("description=%00%ff%3Cscript%3E"));
    }

    /// <summary>Wrong passwords by Basic and by the sign-in form: they count toward the address's guard.</summary>
    static IEnumerable<HostileRequest> WrongSignIns(CorpusCredentials who)
    {
        var wrong = "Basic " + B64("admin:wrong");
        foreach (var path in new[] { "/buildByToken/build?job=p&token=secret", "/api/json", "/healthz", "/job/p/config.xml" })
            yield return new("sign-in", $"wrong password on {path}", Latin1($"{(path.StartsWith("/buildByToken", StringComparison.Ordinal) ? "POST" : "GET")} {path} HTTP/1.1\r\nHost: {who.Host}\r\nAuthorization: {wrong}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), [], SignsInWrongly: true);
        var login = Form($"j_username=admin&j_password=wrong&from=%2F%2Fevil.example&Jenkins-Crumb={who.Crumb}");
        yield return Request("sign-in", "wrong password by the form", "POST", "/login", who, [("Cookie", $"valet_session={who.SessionCookie}")], login) with { SignsInWrongly = true };
        yield return Request("sign-in", "hostile user name by the form", "POST", "/login", who, [("Cookie", $"valet_session={who.SessionCookie}")],
            Form($"j_username=%00%ff{new string('u', 5000)}&j_password=&Jenkins-Crumb={who.Crumb}")) with
        { SignsInWrongly = true };
    }

    static HostileRequest Request(string family, string name, string method, string target, CorpusCredentials who, (string, string)[] headers, byte[]? body = null, string? contentType = null)
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\nHost: ").Append(who.Host).Append("\r\n");
        head.Append(HeaderLines(headers));
        if (body is not null)
            head.Append("Content-Type: ").Append(contentType ?? "application/x-www-form-urlencoded").Append("\r\n");
        head.Append("Content-Length: ").Append(body?.Length ?? 0).Append("\r\nConnection: close\r\n\r\n");
        return new(family, name, Latin1(head.ToString()), body ?? []);
    }

    static string HeaderLines((string Name, string Value)[] headers) => string.Concat(headers.Select(h => $"{h.Name}: {h.Value}\r\n"));

    static byte[] Form(string text) => Utf8(text);

    static byte[] Multipart(IEnumerable<(string Name, string Value)> parts)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in parts)
            text.Append("--b\r\nContent-Disposition: form-data; name=\"").Append(name).Append("\"\r\n\r\n").Append(value).Append("\r\n");
        return Utf8(text.Append("--b--\r\n").ToString());
    }

    /// <summary>Each char one byte, so <c>\xff</c> in a literal reaches the wire as the byte 0xFF.</summary>
    static byte[] Latin1(string text) => Encoding.Latin1.GetBytes(text);

    static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    static byte[] Concat(byte[] a, byte[] b) => [.. a, .. b];
}
