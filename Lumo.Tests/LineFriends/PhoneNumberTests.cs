using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.Friends;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.LineFriends;

/// <summary>
/// Phone numbers as customers really type them become the E.164 Klaviyo stores (no trunk zero), read in the
/// workspace's region; what is not a number is refused naming the field; stored numbers of earlier versions are
/// migrated once, with their hashed index rows.
/// </summary>
public sealed class PhoneNumberTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync(runTriggers: false);

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    [Theory]
    [InlineData("090-1234-5678", "JP", "+819012345678")]
    [InlineData("090 1234 5678", "JP", "+819012345678")]
    [InlineData("+81 90-1234-5678", "JP", "+819012345678")]
    [InlineData("+81 (0)90 1234 5678", "JP", "+819012345678")]
    [InlineData("+81 090 1234 5678", "JP", "+819012345678")]
    [InlineData("０９０‐１２３４‐５６７８", "JP", "+819012345678")]
    [InlineData("0081 90 1234 5678", "JP", "+819012345678")]
    [InlineData("0912 345 678", "TW", "+886912345678")]
    [InlineData("081 234 5678", "TH", "+66812345678")]
    [InlineData("+1 415 555 2671", "TH", "+14155552671")]
    [InlineData("090-1234-5678", null, "+819012345678")]
    public void NormalisesWhatCustomersTypeToE164(string typed, string? region, string expected) =>
        Assert.Equal(expected, ContactDetails.NormalisePhone(typed, region, out _));

    [Theory]
    [InlineData("12345")]
    [InlineData("not a number")]
    [InlineData("+81090")]
    public void RefusesWhatIsNotAValidNumber(string typed)
    {
        Assert.Null(ContactDetails.NormalisePhone(typed, "JP", out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public async Task AFriendsNumberIsStoredInE164AndFoundByWhatCustomersType()
    {
        var user = _scenario.Tenant.AddFriend("Hina");
        await FollowAsync(user.UserId);

        var set = await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{user.UserId}", new { phoneNumber = "+81 090 1234 5678" });
        var found = await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/friends?phoneNumber={Uri.EscapeDataString("０９０‐１２３４‐５６７８")}");

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal("+819012345678", (await set.Content.ReadFromJsonAsync<JsonObject>())!["phoneNumber"]!.GetValue<string>());
        Assert.Equal(user.UserId, Assert.Single(found!)!["userId"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnInvalidNumberIsRefusedNamingTheFieldAndNothingIsWritten()
    {
        var user = _scenario.Tenant.AddFriend("Sora");
        await FollowAsync(user.UserId);

        var refused = await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{user.UserId}", new { email = "sora@example.com", phoneNumber = "12345" });
        var lookup = await _scenario.Admin.GetAsync($"{_scenario.AccountPath()}/friends?phoneNumber=12345");

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.NotNull((await refused.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["phoneNumber"]);
        Assert.Equal(HttpStatusCode.BadRequest, lookup.StatusCode);
        var friend = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user.UserId}"))!;
        Assert.Null(friend["email"]);
        Assert.Null(friend["phoneNumber"]);
    }

    [Fact]
    public async Task TheWorkspaceRegionDecidesHowNationalNumbersAreRead()
    {
        var patched = await _scenario.Admin.PatchAsJsonAsync($"/api/manage/workspaces/{_scenario.WorkspaceId}", new { defaultRegion = "tw" });
        var refused = await _scenario.Admin.PatchAsJsonAsync($"/api/manage/workspaces/{_scenario.WorkspaceId}", new { defaultRegion = "XX" });
        var user = _scenario.Tenant.AddFriend("Mei");
        await FollowAsync(user.UserId);
        var set = await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{user.UserId}", new { phoneNumber = "0912 345 678" });

        Assert.Equal("TW", (await patched.Content.ReadFromJsonAsync<JsonObject>())!["defaultRegion"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.NotNull((await refused.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["defaultRegion"]);
        Assert.Equal("+886912345678", (await set.Content.ReadFromJsonAsync<JsonObject>())!["phoneNumber"]!.GetValue<string>());
    }

    [Fact]
    public async Task NumbersStoredWithTheTrunkZeroAreMigratedOnceWithTheirIndex()
    {
        var user = _scenario.Tenant.AddFriend("Riku");
        await FollowAsync(user.UserId);
        // What earlier versions stored for "+81 090 1234 5678".
        await _scenario.App.Service<LineFriendStore>().SetContactAsync(_scenario.WorkspaceId, _scenario.AccountId, user.UserId, null, "+8109011112222", default);

        var first = await _scenario.Admin.PostAsync("/api/manage/maintenance/migrate-contact-details", null);
        var second = await _scenario.Admin.PostAsync("/api/manage/maintenance/migrate-contact-details", null);

        // (The start-up run may have got there first: what counts is the outcome, and that a second run changes nothing.)
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(0, (await second.Content.ReadFromJsonAsync<JsonObject>())!["phonesChanged"]!.GetValue<int>());
        var friend = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user.UserId}"))!;
        Assert.Equal("+819011112222", friend["phoneNumber"]!.GetValue<string>());
        var found = await _scenario.App.Service<LineFriendStore>().FindByContactAsync(_scenario.WorkspaceId, _scenario.AccountId, null, "+819011112222", default);
        var stale = await _scenario.App.Service<LineFriendStore>().FindByContactAsync(_scenario.WorkspaceId, _scenario.AccountId, null, "+8109011112222", default);
        Assert.Equal(user.UserId, Assert.Single(found).UserId);
        Assert.Empty(stale);
    }

    // Without the trigger runner the follow is applied by hand: the friend exists once LINE confirms it.
    private Task FollowAsync(string userId) =>
        _scenario.App.Service<LineFriendStore>().UpdateAsync(_scenario.WorkspaceId, _scenario.AccountId, userId, f => f with { FollowStatus = FollowStatus.Friend }, default);
}

/// <summary>
/// The email/phone index is keyed with the deployment's own secret: its row keys cannot be computed from a guessed
/// address, and rows of earlier versions (plain SHA-256) move to keyed ones in the contact migration.
/// </summary>
public sealed class ContactIndexKeyTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync(runTriggers: false);

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    private async Task<List<string>> IndexRowsAsync()
    {
        var table = await _scenario.App.Service<Lumo.Core.Storage.LumoTables>().GetAsync(Lumo.Core.Storage.TableNames.LineFriends);
        var partition = Lumo.Core.Storage.AccountPartition.Of(_scenario.WorkspaceId, _scenario.AccountId);
        return await table.QueryAsync<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == partition).Select(e => e.RowKey).Where(k => k.StartsWith('~')).ToListAsync();
    }

    [Fact]
    public async Task IndexKeysCannotBeComputedFromAGuessedAddressYetFindTheFriend()
    {
        var user = _scenario.Tenant.AddFriend("Kaho");
        var store = _scenario.App.Service<LineFriendStore>();
        await store.UpdateAsync(_scenario.WorkspaceId, _scenario.AccountId, user.UserId, f => f with { FollowStatus = FollowStatus.Friend }, default);
        await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{user.UserId}", new { email = "kaho@example.com" });

        var row = Assert.Single(await IndexRowsAsync());
        Assert.DoesNotContain(ContactDetails.LegacyIndexHash("kaho@example.com"), row);
        Assert.DoesNotContain("kaho", row);
        Assert.Equal(user.UserId, Assert.Single(await store.FindByContactAsync(_scenario.WorkspaceId, _scenario.AccountId, "kaho@example.com", null, default)).UserId);
    }

    [Fact]
    public async Task TheContactMigrationMovesPlainHashRowsToKeyedOnes()
    {
        var user = _scenario.Tenant.AddFriend("Yuna");
        var store = _scenario.App.Service<LineFriendStore>();
        await store.UpdateAsync(_scenario.WorkspaceId, _scenario.AccountId, user.UserId, f => f with { FollowStatus = FollowStatus.Friend, Email = "yuna@example.com" }, default);
        // What an earlier version wrote beside the friend.
        var table = await _scenario.App.Service<Lumo.Core.Storage.LumoTables>().GetAsync(Lumo.Core.Storage.TableNames.LineFriends);
        var legacy = $"~email:{ContactDetails.LegacyIndexHash("yuna@example.com")}:{user.UserId}";
        await table.UpsertEntityAsync(new Azure.Data.Tables.TableEntity(Lumo.Core.Storage.AccountPartition.Of(_scenario.WorkspaceId, _scenario.AccountId), legacy));

        var migrated = await _scenario.Admin.PostAsync("/api/manage/maintenance/migrate-contact-details", null);

        // (The start-up run may have got there first: what counts is the outcome.)
        Assert.Equal(HttpStatusCode.OK, migrated.StatusCode);
        var rows = await IndexRowsAsync();
        Assert.DoesNotContain(legacy, rows);
        Assert.Single(rows);
        Assert.Equal(user.UserId, Assert.Single(await store.FindByContactAsync(_scenario.WorkspaceId, _scenario.AccountId, "yuna@example.com", null, default)).UserId);
    }
}
