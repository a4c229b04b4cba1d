using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.IdLinkage;

/// <summary>Auto-link: friend contact details that match a Klaviyo profile link the two; with both, both must match one profile.</summary>
public sealed class AutoLinkTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync();

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<JsonObject> SetContactAsync(string userId, object contact)
    {
        var response = await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{userId}", contact);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task AMatchingEmailLinksTheFriendAndWritesItsProperties()
    {
        var user = _scenario.Tenant.AddFriend("Emi");
        await _scenario.FollowAsync(user);
        var profile = _scenario.NewKlaviyoProfile($"emi-{SandboxTenant.Hex(3)}@example.com");

        var friend = await SetContactAsync(user.UserId, new { email = profile.Email!.ToUpperInvariant() });

        Assert.Equal(profile.Id, friend["klaviyo"]!["profileId"]!.GetValue<string>());
        Assert.Equal("auto-email", friend["klaviyo"]!["linkedHow"]!.GetValue<string>());
        Assert.Equal(user.UserId, profile.Properties["LINE User ID"]!.GetValue<string>());
        var unlinked = await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/friends?linked=false");
        Assert.DoesNotContain(unlinked!, f => f!["userId"]!.GetValue<string>() == user.UserId);
    }

    [Fact]
    public async Task EmailAndPhoneOfDifferentProfilesLinkNothing()
    {
        var user = _scenario.Tenant.AddFriend("Fumi");
        await _scenario.FollowAsync(user);
        var byEmail = _scenario.NewKlaviyoProfile($"fumi-{SandboxTenant.Hex(3)}@example.com");
        var byPhone = _scenario.NewKlaviyoProfile();
        byPhone.PhoneNumber = "+819055556666";

        var friend = await SetContactAsync(user.UserId, new { email = byEmail.Email, phoneNumber = "+81 90 5555 6666" });

        Assert.False(friend["klaviyo"]!["linked"]!.GetValue<bool>());
        Assert.Equal("+819055556666", friend["phoneNumber"]!.GetValue<string>());
        var unlinked = await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/friends?linked=false");
        Assert.Contains(unlinked!, f => f!["userId"]!.GetValue<string>() == user.UserId);
        Assert.False(byEmail.Properties.ContainsKey("LINE User ID") || byPhone.Properties.ContainsKey("LINE User ID"));
    }

    [Fact]
    public async Task UnlinkFreesTheProfileForAnotherFriend()
    {
        var (first, profile) = await _scenario.LinkedFriendAsync("Gen");
        var second = _scenario.Tenant.AddFriend("Hana");
        await _scenario.FollowAsync(second);

        var refused = await _scenario.Admin.PutAsJsonAsync($"{_scenario.AccountPath()}/friends/{second.UserId}/link", new { klaviyoProfileId = profile.Id });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _scenario.Admin.DeleteAsync($"{_scenario.AccountPath()}/friends/{first.UserId}/link")).StatusCode);
        await _scenario.LinkAsync(second.UserId, profile.Id);

        Assert.Equal(second.UserId, profile.Properties["LINE User ID"]!.GetValue<string>());
    }

    [Fact]
    public async Task FriendsAreFoundByEmailOrPhoneThroughHashedKeys()
    {
        var ivy = _scenario.Tenant.AddFriend("Ivy");
        var jun = _scenario.Tenant.AddFriend("Jun");
        await _scenario.FollowAsync(ivy);
        await _scenario.FollowAsync(jun);
        await SetContactAsync(ivy.UserId, new { email = "ivy@example.com", phoneNumber = "+81 90 7777 0001" });
        await SetContactAsync(jun.UserId, new { email = "jun@example.com" });

        async Task<List<string>> FindAsync(string query) =>
            (await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/friends?{query}"))!.Select(f => f!["userId"]!.GetValue<string>()).ToList();

        Assert.Equal([ivy.UserId], await FindAsync("email=IVY%40example.com"));
        Assert.Equal([ivy.UserId], await FindAsync("phoneNumber=%2B819077770001&email=ivy%40example.com"));
        Assert.Empty(await FindAsync("phoneNumber=%2B819077770001&email=jun%40example.com"));
        await SetContactAsync(ivy.UserId, new { email = "ivy.new@example.com" });
        Assert.Empty(await FindAsync("email=ivy%40example.com"));
        Assert.Equal([ivy.UserId], await FindAsync("email=ivy.new%40example.com"));
        Assert.Equal(HttpStatusCode.BadRequest, (await _scenario.Admin.GetAsync($"{_scenario.AccountPath()}/friends?email=not-an-email")).StatusCode);

        var table = await _scenario.App.Service<Lumo.Core.Storage.LumoTables>().GetAsync(Lumo.Core.Storage.TableNames.LineFriends, default);
        await foreach (var row in table.QueryAsync<Azure.Data.Tables.TableEntity>(select: ["RowKey"]))
            Assert.DoesNotContain("@", row.RowKey);
    }
}
