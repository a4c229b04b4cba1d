using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using static Lumo.Tests.Infrastructure.LineWebhookSender;

namespace Lumo.Tests.Infrastructure;

/// <summary>
/// The usual starting point of a feature test: the app, a sandbox tenant, a workspace with one LINE account, and
/// the steps that make a customer a linked LINE friend (follow webhook, Klaviyo profile, link).
/// </summary>
public sealed class WorkspaceScenario : IAsyncDisposable
{
    private WorkspaceScenario(LumoApp app, SandboxTenant tenant, HttpClient admin, string workspaceId, string accountId)
    {
        (App, Tenant, Admin, WorkspaceId, AccountId) = (app, tenant, admin, workspaceId, accountId);
        Client = app.CreateClient();
    }

    public LumoApp App { get; }
    public SandboxTenant Tenant { get; }
    public HttpClient Admin { get; }
    /// <summary>An anonymous client, as LINE and Klaviyo call the app.</summary>
    public HttpClient Client { get; }
    public string WorkspaceId { get; }
    public string AccountId { get; }

    public static async Task<WorkspaceScenario> StartAsync(bool runTriggers = true, Dictionary<string, string?>? settings = null, bool kestrel = false,
        Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null)
    {
        var app = await LumoApp.StartAsync(runTriggers, settings, services, kestrel: kestrel);
        var tenant = await SandboxTenant.CreateAsync();
        var admin = app.CreateAdminClient();
        var workspaceId = (await admin.CreateWorkspaceAsync(tenant)).Id();
        var accountId = (await admin.AddAccountAsync(workspaceId, tenant.Channel)).Id();
        return new WorkspaceScenario(app, tenant, admin, workspaceId, accountId);
    }

    public string AccountPath(string? accountId = null) => $"/api/manage/workspaces/{WorkspaceId}/accounts/{accountId ?? AccountId}";

    /// <summary>The user follows the account (a signed webhook); returns once Lumo knows the friend.</summary>
    public async Task FollowAsync(LineUser user, LineChannel? channel = null, string? accountId = null)
    {
        await Client.PostWebhookAsync(WorkspaceId, accountId ?? AccountId, channel ?? Tenant.Channel, Follow(user.UserId, DateTimeOffset.UtcNow));
        await Eventually.MatchesAsync(() => Admin.GetAsync($"{AccountPath(accountId)}/friends/{user.UserId}"), r => r.IsSuccessStatusCode);
    }

    public SimulatedProfile NewKlaviyoProfile(string? email = null)
    {
        var profile = new SimulatedProfile(Tenant.Klaviyo.NewId()) { Email = email };
        profile.Properties["Loyalty tier"] = "gold";
        lock (Tenant.Klaviyo.Gate) Tenant.Klaviyo.Profiles[profile.Id] = profile;
        return profile;
    }

    public async Task LinkAsync(string userId, string profileId, string? accountId = null)
    {
        var response = await Admin.PutAsJsonAsync($"{AccountPath(accountId)}/friends/{userId}/link", new { klaviyoProfileId = profileId });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>A new LINE user who followed the account and is linked to a new Klaviyo profile.</summary>
    public async Task<(LineUser User, SimulatedProfile Profile)> LinkedFriendAsync(string name)
    {
        var user = Tenant.AddFriend(name);
        await FollowAsync(user);
        var profile = NewKlaviyoProfile($"{name.ToLowerInvariant()}-{SandboxTenant.Hex(3)}@example.com");
        await LinkAsync(user.UserId, profile.Id);
        return (user, profile);
    }

    public async Task<string> FlowKeyAsync() =>
        (await Admin.GetFromJsonAsync<JsonObject>($"/api/manage/workspaces/{WorkspaceId}/flow-settings"))!["headerValue"]!.GetValue<string>();

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}
