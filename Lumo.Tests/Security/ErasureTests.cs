using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Lumo.Core.IdLinkage;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Privacy;
using Lumo.Core.Storage;
using Lumo.Tests.IdLinkage;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Security;

/// <summary>
/// Deleting a LINE account or a workspace leaves no row or secret of it behind, in any table, and the erasure itself
/// is recorded (who, when, what).
/// </summary>
public sealed class ErasureTests : IAsyncLifetime
{
    private WorkspaceScenario _scenario = null!;

    public async Task InitializeAsync() => _scenario = await WorkspaceScenario.StartAsync();

    public async Task DisposeAsync() => await _scenario.DisposeAsync();

    /// <summary>Every row of every table of this app (its own name prefix) that mentions <paramref name="id"/> in its keys or id columns.</summary>
    private async Task<List<string>> RowsMentioningAsync(string id, params string[] exceptTables)
    {
        var service = _scenario.App.Service<TableServiceClient>();
        var found = new List<string>();
        await foreach (var table in service.QueryAsync(t => t.Name.CompareTo(_scenario.App.Prefix) >= 0 && t.Name.CompareTo(_scenario.App.Prefix + "~") < 0))
        {
            if (exceptTables.Any(e => table.Name == _scenario.App.Prefix + e)) continue;
            await foreach (var row in service.GetTableClient(table.Name).QueryAsync<TableEntity>())
                if (new[] { row.PartitionKey, row.RowKey, row.GetString("AccountId"), row.GetString("WorkspaceId") }.Any(v => v?.Contains(id) == true))
                    found.Add($"{table.Name}: {row.PartitionKey} / {row.RowKey}");
        }
        return found;
    }

    private async Task<string> FillTheAccountAsync()
    {
        var (user, profile) = await _scenario.LinkedFriendAsync("Erin"); // friend, profile claim, event log
        await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{user.UserId}", new { email = "erin@example.com" }); // index row
        var customer = await LinkingCustomer.SetUpAsync(_scenario); // ID linkage settings, LINE Login secret
        await _scenario.App.Service<LinkImportHistory>().SaveAsync(new LinkImportRun
        {
            Id = LinkImportHistory.NewRunId(DateTimeOffset.UtcNow), WorkspaceId = _scenario.WorkspaceId, AccountId = _scenario.AccountId, SegmentId = "SEG",
        }, default); // sync history
        var code = await customer.CreateQrCodeAsync("email"); // QR code
        await customer.OpenAsync(await customer.OwnUrlAsync(code, profile)); // link session, linking-token pass
        await _scenario.App.Service<FormLinkArms>().ArmAsync(_scenario.WorkspaceId, _scenario.AccountId, profile.Id, "erin@example.com", null, default); // arm
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{_scenario.WorkspaceId}/send")
        {
            Content = JsonContent.Create(new { to = user.UserId, account = _scenario.AccountId, text = "Hi Erin" }),
        };
        request.Headers.Add(Lumo.Core.FlowSends.FlowKeys.HeaderName, await _scenario.FlowKeyAsync());
        Assert.Equal(HttpStatusCode.Accepted, (await _scenario.Client.SendAsync(request)).StatusCode); // send and content claim
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.DeliveredLineMessage)), e => e.Count == 1);
        return user.UserId;
    }

    [Fact]
    public async Task DeletingAnAccountLeavesNoRowOrSecretOfItBehind()
    {
        await FillTheAccountAsync();
        Assert.NotEmpty(await RowsMentioningAsync(_scenario.AccountId, TableNames.Workspaces));

        var deleted = await _scenario.Admin.DeleteAsync(_scenario.AccountPath());

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        // Checked in every table: friends, index and claim rows, event log, QR codes, settings, arms, sessions, sends,
        // import history, leases, and the development secret store (channel secret, access token, LINE Login secret).
        Assert.Empty(await RowsMentioningAsync(_scenario.AccountId));
        var erasures = await _scenario.App.Service<TenantDataErasure>().ListAsync(_scenario.WorkspaceId, default);
        var record = Assert.Single(erasures);
        Assert.Contains(_scenario.AccountId, record.What);
        Assert.StartsWith("admin key ", record.By);
        Assert.True(record.Rows > 5);
    }

    [Fact]
    public async Task DeletingAWorkspaceLeavesNothingOfItButTheRecordOfItsErasure()
    {
        await FillTheAccountAsync();

        var deleted = await _scenario.Admin.DeleteAsync($"/api/manage/workspaces/{_scenario.WorkspaceId}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(await RowsMentioningAsync(_scenario.WorkspaceId, TableNames.ErasureLog));
        Assert.Equal(["LINE account " + _scenario.AccountId, "workspace"],
            (await _scenario.App.Service<TenantDataErasure>().ListAsync(_scenario.WorkspaceId, default)).Select(e => e.What));
    }

    [Fact]
    public async Task APersonsErasureKeepsOnlyWhatALaterFollowOrBlockNeeds()
    {
        var user = await FillTheAccountAsync();

        var erased = await _scenario.Admin.PostAsJsonAsync($"/api/manage/workspaces/{_scenario.WorkspaceId}/erasures", new { lineUserId = user });

        Assert.Equal(HttpStatusCode.OK, erased.StatusCode);
        var friend = (await _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user}"))!;
        Assert.Null(friend["displayName"]);
        Assert.Null(friend["email"]);
        Assert.False(friend["klaviyo"]!["linked"]!.GetValue<bool>());
        Assert.Equal("friend", friend["followStatus"]!.GetValue<string>());
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>($"{_scenario.AccountPath()}/friends?email=erin%40example.com"))!);
        Assert.Empty((await _scenario.Admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{_scenario.WorkspaceId}/sends?recipient={user}"))!);
        var record = Assert.Single(await _scenario.App.Service<TenantDataErasure>().ListAsync(_scenario.WorkspaceId, default));
        Assert.StartsWith("person: LINE user sha256:", record.What);
        Assert.DoesNotContain(user, record.What);

        // A later block is still applied (and, the person being unlinked, tells Klaviyo nothing).
        await _scenario.Client.PostWebhookAsync(_scenario.WorkspaceId, _scenario.AccountId, _scenario.Tenant.Channel, LineWebhookSender.Unfollow(user, DateTimeOffset.UtcNow));
        await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user}")!,
            f => f!["followStatus"]!.GetValue<string>() == "blocked");
    }

    [Fact]
    public async Task AProfileDeletedInKlaviyoTakesTheLinkAndContactDetailsWithIt()
    {
        var (user, profile) = await _scenario.LinkedFriendAsync("Gone");
        await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{user.UserId}", new { email = "gone@example.com" });
        lock (_scenario.Tenant.Klaviyo.Gate) _scenario.Tenant.Klaviyo.Profiles.Remove(profile.Id); // a privacy deletion in Klaviyo

        // The next property write (a block) finds the profile gone.
        await _scenario.Client.PostWebhookAsync(_scenario.WorkspaceId, _scenario.AccountId, _scenario.Tenant.Channel, LineWebhookSender.Unfollow(user.UserId, DateTimeOffset.UtcNow));

        var friend = await Eventually.MatchesAsync(() => _scenario.Admin.GetFromJsonAsync<JsonObject>($"{_scenario.AccountPath()}/friends/{user.UserId}")!,
            f => f!["klaviyo"]!["linked"]!.GetValue<bool>() == false);
        Assert.Null(friend!["email"]);
        Assert.Equal("blocked", friend["followStatus"]!.GetValue<string>());
        await Eventually.MatchesAsync(() => _scenario.App.Service<TenantDataErasure>().ListAsync(_scenario.WorkspaceId, default),
            erasures => erasures.Any(e => e.What.Contains("no longer exists")), because: "the erasure is recorded right after it is made");
    }

    [Fact]
    public async Task RepeatingADeletionThatWasCutShortErasesWhatItLeftBehind()
    {
        await FillTheAccountAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await _scenario.Admin.DeleteAsync(_scenario.AccountPath())).StatusCode);
        // What a deletion killed mid-way leaves behind: the account row gone, some of its data still there.
        await _scenario.App.Service<Lumo.Core.Friends.LineFriendStore>().UpdateAsync(_scenario.WorkspaceId, _scenario.AccountId, "U" + SandboxTenant.Hex(16),
            f => f with { DisplayName = "Left behind" }, default);
        Assert.NotEmpty(await RowsMentioningAsync(_scenario.AccountId));

        var repeated = await _scenario.Admin.DeleteAsync(_scenario.AccountPath());

        Assert.Equal(HttpStatusCode.NotFound, repeated.StatusCode); // the account is gone, and now so is everything of it
        Assert.Empty(await RowsMentioningAsync(_scenario.AccountId));
    }
}
