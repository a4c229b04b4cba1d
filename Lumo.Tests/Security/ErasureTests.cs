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

    private async Task FillTheAccountAsync()
    {
        var (user, profile) = await _scenario.LinkedFriendAsync("Erin"); // friend, profile claim, event log
        await _scenario.Admin.PatchAsJsonAsync($"{_scenario.AccountPath()}/friends/{user.UserId}", new { email = "erin@example.com" }); // index row
        var customer = await LinkingCustomer.SetUpAsync(_scenario); // ID linkage settings, LINE Login secret
        await _scenario.App.Service<LinkImportHistory>().SaveAsync(new LinkImportRun
        {
            Id = LinkImportHistory.NewRunId(DateTimeOffset.UtcNow), WorkspaceId = _scenario.WorkspaceId, AccountId = _scenario.AccountId, SegmentId = "SEG",
        }, default); // sync history
        var code = await customer.CreateQrCodeAsync("email"); // QR code
        await customer.OpenAsync(LinkingCustomer.Rendered(code["linkingUrl"]!.GetValue<string>(), profile.Email)); // link session
        await _scenario.App.Service<FormLinkArms>().ArmAsync(_scenario.WorkspaceId, _scenario.AccountId, profile.Id, "erin@example.com", null, default); // arm
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flow/{_scenario.WorkspaceId}/send")
        {
            Content = JsonContent.Create(new { to = user.UserId, account = _scenario.AccountId, text = "Hi Erin" }),
        };
        request.Headers.Add(Lumo.Core.FlowSends.FlowKeys.HeaderName, await _scenario.FlowKeyAsync());
        Assert.Equal(HttpStatusCode.Accepted, (await _scenario.Client.SendAsync(request)).StatusCode); // send and content claim
        await Eventually.MatchesAsync(() => Task.FromResult(_scenario.Tenant.Klaviyo.EventsOf(KlaviyoMetrics.DeliveredLineMessage)), e => e.Count == 1);
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
}
