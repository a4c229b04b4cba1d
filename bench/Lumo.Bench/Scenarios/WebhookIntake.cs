using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Sandbox;
using Lumo.Sandbox.Line;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// LINE webhook intake through the real HTTP pipeline: signed 100-event bodies posted concurrently; the app
/// verifies, parses and queues them (processing is off, so only intake is measured).
/// </summary>
public static class WebhookIntake
{
    public const int EventsPerBody = 100;

    public static async Task<Measurement> RunAsync(Uri app, SandboxHost sandbox, int requests, int concurrency)
    {
        var channel = sandbox.Line.AddChannel(new LineChannel("3000000001", Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant(),
            "bench-token", "U" + new string('b', 32), "@bench", "Bench OA"));
        sandbox.Klaviyo.AddAccount("BenchKlaviyo", "pk_bench_0123456789abcdef", "Bench");
        using var admin = new HttpClient { BaseAddress = app };
        admin.DefaultRequestHeaders.Add("x-functions-key", FunctionApp.AdminKey);
        var workspace = await (await admin.PostAsJsonAsync("api/manage/workspaces", new { name = "Bench", klaviyo = new { privateApiKey = "pk_bench_0123456789abcdef" } }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var account = await (await admin.PostAsJsonAsync($"api/manage/workspaces/{workspace!["id"]}/accounts",
            new { name = "Bench OA", channelId = channel.ChannelId, channelSecret = channel.ChannelSecret, channelAccessToken = channel.AccessToken })).Content.ReadFromJsonAsync<JsonObject>();
        var path = $"api/line/webhook/{workspace["id"]}/{account!["id"]}";

        using var client = new HttpClient { BaseAddress = app };
        return await Measurement.RunAsync($"webhook intake ({EventsPerBody} events/body)", requests, concurrency, async i =>
        {
            var body = Body(i);
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.Add("x-line-signature", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(channel.ChannelSecret), body)));
            using var response = await client.SendAsync(request);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"Webhook answered {(int)response.StatusCode}");
        });
    }

    private static byte[] Body(int request)
    {
        var events = new JsonArray(Enumerable.Range(0, EventsPerBody).Select(i => (JsonNode)new JsonObject
        {
            ["type"] = i % 2 == 0 ? "follow" : "message",
            ["mode"] = "active",
            ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["source"] = new JsonObject { ["type"] = "user", ["userId"] = $"U{request:x16}{i:x16}" },
            ["webhookEventId"] = $"01BENCH{request:D8}{i:D5}",
            ["deliveryContext"] = new JsonObject { ["isRedelivery"] = false },
            ["replyToken"] = Guid.NewGuid().ToString("N"),
        }).ToArray());
        return Encoding.UTF8.GetBytes(new JsonObject { ["destination"] = "U" + new string('b', 32), ["events"] = events }.ToJsonString());
    }
}
