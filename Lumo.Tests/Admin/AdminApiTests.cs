using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Secrets;
using Lumo.Core.Workspaces;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Admin;

/// <summary>The admin API: key required, workspaces and LINE accounts managed, secrets kept out of every answer.</summary>
public sealed class AdminApiTests : IAsyncLifetime
{
    private LumoApp _app = null!;
    private SandboxTenant _tenant = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _app = await LumoApp.StartAsync(runTriggers: false);
        _tenant = await SandboxTenant.CreateAsync();
        _admin = _app.CreateAdminClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task AKeyReplacedByARotationIsRefusedAndChangesNothing()
    {
        var created = await _admin.PostAsJsonAsync("/api/manage/workspaces", new { name = "Rotated", klaviyo = new { privateApiKey = _tenant.KlaviyoKey } });
        var workspaceId = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        // The operator rotates the admin key: the app restarts with the new one, on the same storage.
        await using var rotated = await LumoApp.StartAsync(runTriggers: false, settings: new() { ["Lumo:Admin:Key"] = "rotated-admin-key-9876543210" }, sharingStorageWith: _app.Prefix);
        var stale = rotated.CreateAdminClient(); // still sends the old key

        var delete = await stale.DeleteAsync($"/api/manage/workspaces/{workspaceId}");
        var rename = await stale.PatchAsJsonAsync($"/api/manage/workspaces/{workspaceId}", new { name = "Hijacked" });

        Assert.Equal(HttpStatusCode.Unauthorized, delete.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, rename.StatusCode);
        Assert.Equal("application/problem+json", delete.Content.Headers.ContentType?.MediaType);
        var fresh = rotated.CreateClient();
        fresh.DefaultRequestHeaders.Add("x-functions-key", "rotated-admin-key-9876543210");
        var workspace = (await fresh.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{workspaceId}"))!;
        Assert.Equal("Rotated", workspace["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-wrong-key-wrong")]
    public async Task RefusesAdminCallsWithoutTheAdminKey(string? key)
    {
        var client = _app.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Add("x-functions-key", key);

        var list = await client.GetAsync("/api/manage/workspaces");
        var create = await client.PostAsJsonAsync("/api/manage/workspaces", new { name = "x", klaviyo = new { privateApiKey = _tenant.KlaviyoKey } });

        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal("application/problem+json", list.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
        Assert.Empty(await _app.Service<WorkspaceStore>().ListWorkspacesAsync(default));
    }

    [Fact]
    public async Task AcceptsTheAdminKeyAsCodeQueryParameterLikeAFunctionsKey()
    {
        var response = await _app.CreateClient().GetAsync($"/api/manage/workspaces?code={LumoApp.AdminKey}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task KeepsCredentialsInTheSecretStoreAndOutOfEveryAnswer()
    {
        var workspace = await _admin.CreateWorkspaceAsync(_tenant);
        var account = await _admin.AddAccountAsync(workspace.Id(), _tenant.Channel);
        var everything = (await _admin.GetStringAsync("/api/manage/workspaces")) + workspace.ToJsonString() + account.ToJsonString();

        Assert.DoesNotContain(_tenant.KlaviyoKey, everything);
        Assert.DoesNotContain(_tenant.Channel.ChannelSecret, everything);
        Assert.DoesNotContain(_tenant.Channel.AccessToken, everything);
        var secrets = _app.Service<ISecretStore>();
        Assert.Equal(_tenant.KlaviyoKey, await secrets.GetIfExistsAsync(SecretNames.KlaviyoApiKey(workspace.Id())));
        Assert.Equal(_tenant.Channel.AccessToken, await secrets.GetIfExistsAsync(SecretNames.ChannelAccessToken(workspace.Id(), account.Id())));
    }

    [Fact]
    public async Task AnswersAnInvalidWorkspaceWithAProblemNamingTheFieldsAndWritesNothing()
    {
        var response = await _admin.PostAsJsonAsync("/api/manage/workspaces", new { name = "", klaviyo = new { privateApiKey = "not-a-key" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.NotNull(problem["errors"]!["name"]);
        Assert.NotNull(problem["errors"]!["klaviyo.privateApiKey"]);
        Assert.Empty(await _app.Service<WorkspaceStore>().ListWorkspacesAsync(default));
    }

    [Fact]
    public async Task AnswersAnInvalidAccountWithAProblemNamingTheFieldsAndWritesNothing()
    {
        var workspace = await _admin.CreateWorkspaceAsync(_tenant);
        var response = await _admin.PostAsJsonAsync($"/api/manage/workspaces/{workspace.Id()}/accounts",
            new { name = "OA", channelId = "12ab", channelSecret = "short", channelAccessToken = "has spaces in it" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal(["channelAccessToken", "channelId", "channelSecret"], errors.Select(e => e.Key).Order());
        Assert.Empty(await _app.Service<WorkspaceStore>().ListAccountsAsync(workspace.Id(), default));
    }

    [Theory]
    [InlineData("{\"name\": ")]
    [InlineData("{\"name\": 42, \"klaviyo\": {\"privateApiKey\": \"pk_x\"}}")]
    public async Task AnswersMalformedJsonWith400Problem(string body)
    {
        var response = await _admin.PostAsync("/api/manage/workspaces", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await _app.Service<WorkspaceStore>().ListWorkspacesAsync(default));
    }

    [Fact]
    public async Task GivesTheSecondAccountThePropertySuffix2AndNeverReusesAnOrdinal()
    {
        var workspace = await _admin.CreateWorkspaceAsync(_tenant);
        var first = await _admin.AddAccountAsync(workspace.Id(), _tenant.Channel, "Japan");
        var second = await _admin.AddAccountAsync(workspace.Id(), _tenant.AddChannel(), "Taiwan");

        Assert.Equal("LINE User ID", first["propertyNames"]!["userId"]!.GetValue<string>());
        Assert.Equal("LINE User ID 2", second["propertyNames"]!["userId"]!.GetValue<string>());
        Assert.Equal("LINE Consent Updated At 2", second["propertyNames"]!["consentUpdatedAt"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/manage/workspaces/{workspace.Id()}/accounts/{second.Id()}")).StatusCode);
        var third = await _admin.AddAccountAsync(workspace.Id(), _tenant.AddChannel(), "Thailand");
        Assert.Equal(3, third["ordinal"]!.GetValue<int>());
    }

    [Fact]
    public async Task GivesConcurrentlyAddedAccountsDistinctOrdinals()
    {
        var workspace = await _admin.CreateWorkspaceAsync(_tenant);
        var accounts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => _admin.AddAccountAsync(workspace.Id(), _tenant.AddChannel(), $"OA {i}")));

        Assert.Equal(Enumerable.Range(1, 8), accounts.Select(a => a["ordinal"]!.GetValue<int>()).Order());
    }

    [Fact]
    public async Task RefusesAChangeBasedOnAStaleETag()
    {
        var workspace = await _admin.CreateWorkspaceAsync(_tenant);
        var read = await _admin.GetAsync($"/api/manage/workspaces/{workspace.Id()}");
        var etag = read.Headers.GetValues("ETag").Single();
        var rename = new HttpRequestMessage(HttpMethod.Patch, $"/api/manage/workspaces/{workspace.Id()}") { Content = JsonContent.Create(new { name = "First rename" }) };
        rename.Headers.TryAddWithoutValidation("If-Match", etag);
        Assert.Equal(HttpStatusCode.OK, (await _admin.SendAsync(rename)).StatusCode);

        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/api/manage/workspaces/{workspace.Id()}") { Content = JsonContent.Create(new { name = "Lost update" }) };
        stale.Headers.TryAddWithoutValidation("If-Match", etag);
        var response = await _admin.SendAsync(stale);

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        Assert.Equal("First rename", (await _admin.GetWorkspaceAsync(workspace.Id()))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeletingAWorkspaceRemovesItsAccountsAndSecrets()
    {
        var workspace = await _admin.CreateWorkspaceAsync(_tenant);
        var account = await _admin.AddAccountAsync(workspace.Id(), _tenant.Channel);

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/manage/workspaces/{workspace.Id()}")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"/api/manage/workspaces/{workspace.Id()}")).StatusCode);
        var secrets = _app.Service<ISecretStore>();
        Assert.Null(await secrets.GetIfExistsAsync(SecretNames.KlaviyoApiKey(workspace.Id())));
        Assert.Null(await secrets.GetIfExistsAsync(SecretNames.ChannelSecret(workspace.Id(), account.Id())));
        Assert.Empty(await _app.Service<WorkspaceStore>().ListAccountsAsync(workspace.Id(), default));
    }

    [Fact]
    public async Task AnswersUnknownWorkspacesAndAccountsWith404Problem()
    {
        var workspace = await _admin.CreateWorkspaceAsync(_tenant);
        var missingWorkspace = await _admin.GetAsync("/api/manage/workspaces/0000000000000000");
        var missingAccount = await _admin.GetAsync($"/api/manage/workspaces/{workspace.Id()}/accounts/0000000000000000");

        Assert.Equal(HttpStatusCode.NotFound, missingWorkspace.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missingAccount.StatusCode);
        Assert.Equal("application/problem+json", missingAccount.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task PublishesAnOpenApiDocumentOfTheAdminApi()
    {
        var document = (await _admin.GetFromJsonAsync<JsonObject>("/api/manage/openapi.json"))!;
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();

        Assert.Contains("/api/manage/workspaces", paths);
        Assert.Contains("/api/manage/workspaces/{workspaceId}/accounts", paths);
        Assert.Contains("/api/manage/parked/{queue}/replay", paths);
        Assert.DoesNotContain(paths, p => !p.StartsWith("/api/manage", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecordsRefusedCredentialsAsAFailedConnection()
    {
        var workspace = await _admin.CreateWorkspaceAsync(_tenant);
        var channel = _tenant.AddChannel();
        var account = await _admin.AddAccountAsync(workspace.Id(), channel);
        channel.AccessToken = "revoked"; // LINE no longer knows the stored token
        _tenant.Sandbox.Line.ChannelsByToken.TryRemove(channel.AccessToken, out _);
        foreach (var stale in _tenant.Sandbox.Line.ChannelsByToken.Where(c => c.Value == channel).ToList())
            _tenant.Sandbox.Line.ChannelsByToken.TryRemove(stale.Key, out _);

        await _app.Service<Lumo.Core.Connections.ConnectionVerifier>().VerifyAsync(new(workspace.Id(), account.Id()), default);

        var after = (await _admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{workspace.Id()}/accounts/{account.Id()}"))!;
        Assert.Equal("failed", after["connection"]!["status"]!.GetValue<string>());
        Assert.Contains("401", after["connection"]!["detail"]!.GetValue<string>());
    }
}
