using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Klaviyo;
using Lumo.Functions.Hosting;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Security;

/// <summary>
/// Trigger endpoints (<c>POST /{FunctionName}</c>) are for the Functions host on loopback. A standalone app bound
/// beyond loopback requires the admin key there (its own runner sends it); and no queue message can make the Klaviyo
/// client send a workspace's key anywhere but Klaviyo.
/// </summary>
public sealed class TriggerEndpointTests
{
    private static readonly JsonObject TimerInvocation = new()
    {
        ["Data"] = new JsonObject { ["timer"] = new JsonObject { ["IsPastDue"] = false } },
        ["Metadata"] = new JsonObject(),
    };

    [Fact]
    public async Task AnAppBoundBeyondLoopbackRefusesTriggerInvocationsWithoutTheAdminKeyWhileItsRunnerStillWorks()
    {
        await using var app = await LumoApp.StartAsync(runTriggers: true, settings: new() { [StandaloneBinding.Setting] = "http://0.0.0.0:7999" });
        var tenant = await SandboxTenant.CreateAsync();
        var admin = app.CreateAdminClient();

        var anonymous = await app.CreateClient().PostAsJsonAsync("/Heartbeat", TimerInvocation);
        var withKey = await admin.PostAsJsonAsync("/Heartbeat", TimerInvocation);
        var workspaceId = (await admin.CreateWorkspaceAsync(tenant)).Id();

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        // The queued connection check ran through the runner, which sends the key.
        await Eventually.MatchesAsync(async () => (await admin.GetWorkspaceAsync(workspaceId))["klaviyo"]!["connection"]!["status"]!.GetValue<string>(),
            status => status == "verified");
    }

    [Fact]
    public async Task OnLoopbackTheFunctionsHostsInvocationsNeedNoKey()
    {
        await using var app = await LumoApp.StartAsync(runTriggers: false);

        var invocation = await app.CreateClient().PostAsJsonAsync("/Heartbeat", TimerInvocation);

        Assert.Equal(HttpStatusCode.OK, invocation.StatusCode);
        Assert.False(StandaloneBinding.IsExposed(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build())); // the default is loopback
    }

    [Fact]
    public async Task AKlaviyoPagingLinkOutsideKlaviyoIsRefusedBeforeAnythingIsSent()
    {
        await using var app = await LumoApp.StartAsync(runTriggers: false);
        var tenant = await SandboxTenant.CreateAsync();
        var workspaceId = (await app.CreateAdminClient().CreateWorkspaceAsync(tenant)).Id();
        using var elsewhere = new WebhookReceiver();

        var refused = await Assert.ThrowsAsync<KlaviyoApiException>(() =>
            app.Service<KlaviyoClient>().GetSegmentProfilesPageAsync(workspaceId, "SEG", elsewhere.Url + "api/segments/SEG/profiles?page[cursor]=x", default));

        Assert.Equal("foreign_link", refused.Code);
        Assert.False(elsewhere.Received.Task.IsCompleted); // refused before any request was made
    }
}
