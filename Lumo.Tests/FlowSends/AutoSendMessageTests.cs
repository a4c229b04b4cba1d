using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lumo.Core.FlowSends;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Lumo.Tests.Infrastructure;
using static Lumo.Tests.Infrastructure.LineWebhookSender;

namespace Lumo.Tests.FlowSends;

/// <summary>Auto Send Messages: validated against LINE's limits, sent with variables, pasted into Klaviyo via "Get JSON".</summary>
public sealed class AutoSendMessageTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;
    private string _flowKey = null!;

    public async Task InitializeAsync()
    {
        _scenario = await WorkspaceScenario.StartAsync();
        _flowKey = await _scenario.FlowKeyAsync();
    }

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private SandboxTenant Tenant => _scenario.Tenant;
    private HttpClient Admin => _scenario.Admin;
    /// <summary>Calls the app anonymously, as LINE and Klaviyo do.</summary>
    private HttpClient Caller => _scenario.Client;
    private string WorkspaceId => _scenario.WorkspaceId;
    private string AccountId => _scenario.AccountId;

    private static JsonObject Bubble(string uri) => JsonNode.Parse($$$"""
        {"type":"bubble","body":{"type":"box","layout":"vertical","contents":[{"type":"text","text":"{{product}}"}]},
         "footer":{"type":"box","layout":"vertical","contents":[{"type":"button","action":{"type":"uri","label":"Buy","uri":"{{{uri}}}"}}]}}
        """)!.AsObject();

    private async Task<JsonObject> CreateMessageAsync(JsonArray messages, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var response = await Admin.PostAsJsonAsync($"/api/manage/workspaces/{WorkspaceId}/messages", new { name = "Cart reminder", messages });
        Assert.Equal(expected, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private async Task<LineUser> LinkedFriendAsync(string name) => (await _scenario.LinkedFriendAsync(name)).User;

    private Task<HttpResponseMessage> PostFlowAsync(HttpContent body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{WorkspaceId}/send") { Content = body };
        request.Headers.Add(FlowKeys.HeaderName, _flowKey);
        return Caller.SendAsync(request);
    }

    [Fact]
    public async Task SavesMessagesWithinLinesLimitsAndNamesItsVariables()
    {
        var saved = await CreateMessageAsync(new JsonArray(
            new JsonObject { ["type"] = "text", ["text"] = "Hi {{first_name}}, still thinking about {{ product }}?" },
            new JsonObject { ["type"] = "image", ["originalContentUrl"] = "https://cdn.example.com/p/1.jpg", ["previewImageUrl"] = "https://cdn.example.com/p/1-s.png" },
            new JsonObject { ["type"] = "flex", ["altText"] = "Your cart", ["contents"] = Bubble("https://shop.example.com/cart") }));

        Assert.Equal(["first_name", "product"], saved["variables"]!.AsArray().Select(v => v!.GetValue<string>()));
        var again = await Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{WorkspaceId}/messages/{saved.Id()}");
        Assert.Equal(3, again!["messages"]!.AsArray().Count);
    }

    [Fact]
    public async Task RefusesMessagesOverLinesLimitsNamingEachProblem()
    {
        var carousel = new JsonObject { ["type"] = "carousel", ["contents"] = new JsonArray(Enumerable.Range(0, 13).Select(_ => (JsonNode)Bubble("https://x.example")).ToArray()) };
        var problem = await CreateMessageAsync(new JsonArray(
            new JsonObject { ["type"] = "text", ["text"] = new string('あ', 5001) },
            new JsonObject { ["type"] = "image", ["originalContentUrl"] = "http://cdn.example.com/1.jpg", ["previewImageUrl"] = "https://cdn.example.com/1.gif" },
            new JsonObject { ["type"] = "flex", ["altText"] = "", ["contents"] = carousel },
            new JsonObject { ["type"] = "flex", ["altText"] = "x", ["contents"] = Bubble("javascript:alert(1)") }), HttpStatusCode.BadRequest);

        var fields = problem["errors"]!.AsObject().Select(e => e.Key).ToList();
        Assert.Contains("messages[0].text", fields);
        Assert.Contains("messages[1].originalContentUrl", fields);
        Assert.Contains("messages[1].previewImageUrl", fields);
        Assert.Contains("messages[2].altText", fields);
        Assert.Contains("messages[2].contents", fields);
        Assert.Contains("messages[3]", fields);
        Assert.Empty((await Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{WorkspaceId}/messages"))!);
    }

    [Fact]
    public async Task GetJsonGivesABodyThatIsValidOnceKlaviyoRendersItAndSendsTheMessage()
    {
        var user = await LinkedFriendAsync("Asahi");
        var message = await CreateMessageAsync(new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Hi {{first_name}}, {{product}} is back!" }));
        var flowJson = (await Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{WorkspaceId}/messages/{message.Id()}/flow-json?account={AccountId}"))!;
        var template = flowJson["body"]!.GetValue<string>();

        // What Klaviyo does: replace each {{ ... }} tag with the profile's value.
        var rendered = Regex.Replace(template, @"\{\{\s*(.*?)\s*\}\}", m => m.Groups[1].Value switch
        {
            var tag when tag.Contains("'LINE User ID'") => user.UserId,
            var tag when tag.Contains("'first_name'") => "Asahi",
            var tag when tag.Contains("'product'") => "Yuzu soap",
            _ => "",
        });
        JsonNode.Parse(rendered); // valid JSON after rendering
        var response = await PostFlowAsync(new StringContent(rendered, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var push = await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Channel.PushesTo(user.UserId).ToList()), p => p.Count > 0);
        Assert.Equal("Hi Asahi, Yuzu soap is back!", push[0].Messages[0]!["text"]!.GetValue<string>());
        Assert.Contains("{{ person|lookup:'LINE User ID' }}", template);
    }

    [Fact]
    public async Task RefusesAFlowSendMissingAVariableOrNamingAnUnknownMessage()
    {
        var message = await CreateMessageAsync(new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Hi {{first_name}}" }));
        var to = "U" + SandboxTenant.Hex(16);

        var missing = await PostFlowAsync(JsonContent.Create(new { to, account = AccountId, message = message.Id(), variables = new { } }));
        var unknown = await PostFlowAsync(JsonContent.Create(new { to, account = AccountId, message = "nope" }));

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("first_name", (await missing.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["variables"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.NotNull((await unknown.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["message"]);
    }

    [Fact]
    public async Task ATestSendReachesTheLinkedFriendAndTheDiagnosisExplainsIt()
    {
        var user = await LinkedFriendAsync("Koharu");
        var message = await CreateMessageAsync(new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Test for {{name}}" }));

        var response = await Admin.PostAsJsonAsync($"/api/manage/workspaces/{WorkspaceId}/accounts/{AccountId}/test-send",
            new { userId = user.UserId, message = message.Id(), variables = new { name = "Koharu" } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Eventually.MatchesAsync(() => Task.FromResult(Tenant.Channel.PushesTo(user.UserId).ToList()), p => p.Count > 0);
        JsonNode Check(JsonArray d, string name) => d[0]!["checks"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == name)!;
        var diagnosis = await Eventually.MatchesAsync(() => Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{WorkspaceId}/diagnosis?lineUserId={user.UserId}"),
            d => d![0]!["checks"]!.AsArray().Where(c => c!["name"]!.GetValue<string>() != "Last send was opened").All(c => c!["ok"]!.GetValue<bool>()));
        Assert.Contains("test", Check(diagnosis!, "Last send")["detail"]!.GetValue<string>());
        // A text without a link can never be opened, and the diagnosis says so.
        Assert.False(Check(diagnosis!, "Last send was opened")["ok"]!.GetValue<bool>());
        Assert.Contains("no link or image", Check(diagnosis!, "Last send was opened")["detail"]!.GetValue<string>());

        var stranger = "U" + SandboxTenant.Hex(16);
        var unknown = (await Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{WorkspaceId}/diagnosis?lineUserId={stranger}"))!;
        Assert.False(unknown[0]!["checks"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "ID-linked to a Klaviyo profile")!["ok"]!.GetValue<bool>());
    }
}
