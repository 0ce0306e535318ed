using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Valet.Server.Tests.Support;
using Xunit;

namespace Valet.Server.Tests.Triggers;

/// <summary>The conformance setup of build-token-root.md §14: anonymous has nothing, alice the defaults, p has token `secret`.</summary>
public static class TokenSetup
{
    public const string Config = """
        server:
          executors: 2
          quietPeriod: 5
        security:
          users:
            - { id: alice, password: alice-pw, fullName: Alice Example }
          permissions:
            admin: [Overall/Administer]
            authenticated: [Overall/Read, Job/Read, Job/Build, Job/Cancel]
            anonymous: []
        folders:
          - name: dir
          - name: hidden
            permissions:
              alice: []
        jobs:
          - name: p
            authToken: secret
            steps:
              - sh: echo p
          - name: q
            steps:
              - sh: echo q
          - name: dir/p
            authToken: secret
            steps:
              - sh: echo dir p
          - name: a/b/c
            authToken: secret
          - name: hidden/deep
            authToken: secret
          - name: now
            quietPeriod: 0
            authToken: secret
            steps:
              - sh: echo now
          - name: off
            disabled: true
            authToken: secret
          - name: offnotoken
            disabled: true
          - name: withparams
            authToken: secret
            quietPeriod: 60
            parameters:
              - { type: string, name: foo, default: d }
              - { type: string, name: baz }
              - { type: string, name: trimmed, trim: true }
              - { type: choice, name: size, choices: [S, M, L] }
              - { type: boolean, name: flag, default: true }
              - { type: password, name: pw }
          - name: polled
            authToken: secret
            triggers:
              pollScm: ""
          - name: polledparams
            authToken: secret
            triggers:
              pollScm: "H/5 * * * *"
            parameters:
              - { type: string, name: x }
          - name: polldisabled
            disabled: true
            authToken: secret
            triggers:
              pollScm: ""
          - name: serial
            quietPeriod: 0
            authToken: secret
            steps:
              - sh: sleep 300
        """;

    public static async Task<HttpResponseMessage> SendAsync(this ValetProcess valet, HttpMethod method, string path,
        Action<HttpRequestMessage>? configure = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, path);
        configure?.Invoke(request);
        return await (client ?? valet.Anonymous()).SendAsync(request);
    }

    public static Task<HttpResponseMessage> GetAsync(this ValetProcess valet, string path, Action<HttpRequestMessage>? configure = null) =>
        valet.SendAsync(HttpMethod.Get, path, configure);

    public static long QueueId(this HttpResponseMessage response) =>
        long.Parse(response.Headers.Location!.OriginalString.TrimEnd('/').Split('/')[^1]);

    public static async Task<JsonArray> QueueItemsAsync(this ValetProcess valet) =>
        (await valet.GetJsonAsync("queue/api/json"))["items"]!.AsArray();

    public static async Task<JsonNode> QueueItemAsync(this ValetProcess valet, long id) =>
        await valet.GetJsonAsync($"queue/item/{id}/api/json");

    public static async Task<string> BodyAsync(this HttpResponseMessage response) => await response.Content.ReadAsStringAsync();

    public static void Accept(this HttpRequestMessage request, string mediaType) =>
        request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(mediaType));

    public static void AssertStatus(this HttpResponseMessage response, HttpStatusCode expected, string? reason = null)
    {
        var body = response.Content.ReadAsStringAsync().Result;
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        if (reason is not null)
            Assert.Equal(reason, ReasonOf(response));
    }

    /// <summary>The reason code a refusal carries: the problem+json member, or the text line's leading code.</summary>
    public static string? ReasonOf(HttpResponseMessage response)
    {
        var body = response.Content.ReadAsStringAsync().Result;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            return JsonNode.Parse(body)!["reason"]!.GetValue<string>();
        var colon = body.IndexOf(':');
        return colon > 0 ? body[..colon] : null;
    }
}
