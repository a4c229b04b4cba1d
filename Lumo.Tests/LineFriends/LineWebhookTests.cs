using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lumo.Core.Storage;
using Lumo.Sandbox.Specs;
using Lumo.Tests.Infrastructure;
using static Lumo.Tests.Infrastructure.LineWebhookSender;

namespace Lumo.Tests.LineFriends;

/// <summary>The LINE webhook: signature on raw bytes, fast answer, bad input refused with nothing written.</summary>
public sealed class LineWebhookTests : IAsyncLifetime
{
    private LumoApp _app = null!;
    private SandboxTenant _tenant = null!;
    private HttpClient _client = null!;
    private string _workspaceId = null!;
    private string _accountId = null!;

    public async Task InitializeAsync()
    {
        _app = await LumoApp.StartAsync(runTriggers: false);
        _tenant = await SandboxTenant.CreateAsync();
        var admin = _app.CreateAdminClient();
        _workspaceId = (await admin.CreateWorkspaceAsync(_tenant)).Id();
        _accountId = (await admin.AddAccountAsync(_workspaceId, _tenant.Channel)).Id();
        _client = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private string Path => $"/api/line/webhook/{_workspaceId}/{_accountId}";

    private async Task<int> QueuedBatches() =>
        (await (await _app.Service<LumoQueues>().GetAsync(QueueNames.LineEvents)).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    private static byte[] Body(params JsonObject[] events) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["destination"] = "U000000000000000000000000000000d0", ["events"] = new JsonArray(events.Select(e => (JsonNode)e).ToArray()) }.ToJsonString());

    [Fact]
    public async Task RejectsWebhookWithBadSignature()
    {
        var body = Body(Follow(_tenant.AddFriend("Aoi").UserId, DateTimeOffset.UtcNow));
        var response = await _client.PostSignedAsync(Path, body, "0123456789abcdef0123456789abcdef");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await QueuedBatches());
    }

    [Fact]
    public async Task RejectsWebhookWithoutSignature()
    {
        var response = await _client.PostSignedAsync(Path, Body(Follow("U" + SandboxTenant.Hex(16), DateTimeOffset.UtcNow)), secret: null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await QueuedBatches());
    }

    [Fact]
    public async Task RejectsASignedBodyThatIsNotJsonWith400()
    {
        var response = await _client.PostSignedAsync(Path, Encoding.UTF8.GetBytes("{\"events\": [ {\"type\": "), _tenant.Channel.ChannelSecret);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await QueuedBatches());
    }

    [Fact]
    public async Task AnswersAnUnknownAccountWith404()
    {
        var response = await _client.PostSignedAsync($"/api/line/webhook/{_workspaceId}/0000000000000000", Body(), _tenant.Channel.ChannelSecret);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task RefusesAnOversizedBodyWith413()
    {
        var huge = Encoding.UTF8.GetBytes("{\"events\":[],\"pad\":\"" + new string('x', 1_100_000) + "\"}");
        var response = await _client.PostSignedAsync(Path, huge, _tenant.Channel.ChannelSecret);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, await QueuedBatches());
    }

    [Fact]
    public async Task AnswersLinesConnectionCheck()
    {
        var response = await _client.PostSignedAsync(Path, Encoding.UTF8.GetBytes("{\"destination\":\"U000000000000000000000000000000d0\",\"events\":[]}"), _tenant.Channel.ChannelSecret);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, await QueuedBatches());
    }

    [Fact]
    public async Task VerifiesTheSignatureOfBodiesWithMultiByteCharacters()
    {
        var message = Event("message", "U" + SandboxTenant.Hex(16), DateTimeOffset.UtcNow, null, false,
            new JsonObject { ["message"] = new JsonObject { ["id"] = "1", ["type"] = "text", ["text"] = "ありがとう🙏✨" } });
        // Unescaped UTF-8 on the wire, as LINE sends it.
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["events"] = new JsonArray(message) }
            .ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })
            .Replace("\\uD83D\\uDE4F", "🙏"));

        var response = await _client.PostSignedAsync(Path, body, _tenant.Channel.ChannelSecret);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await QueuedBatches());
    }

    [Fact]
    public async Task TheFixtureOfEveryEventTypeConformsToLinesWebhookSpec()
    {
        var fixture = JsonNode.Parse(await File.ReadAllTextAsync(System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "line-webhook-all-events.json")));
        var schema = SpecLibrary.LineWebhooks.Resolve(new JsonObject { ["$ref"] = "#/components/schemas/CallbackRequest" });

        Assert.Empty(SchemaValidator.Validate(SpecLibrary.LineWebhooks, schema, fixture));
        var types = fixture!["events"]!.AsArray().Select(e => e!["type"]!.GetValue<string>()).ToHashSet();
        Assert.Superset(new HashSet<string> { "follow", "unfollow", "message", "unsend", "postback", "join", "leave", "memberJoined", "memberLeft", "videoPlayComplete", "beacon", "accountLink" }, types);
    }
}
