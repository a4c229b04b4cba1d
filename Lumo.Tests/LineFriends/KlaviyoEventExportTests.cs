using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.KlaviyoEvents;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Klaviyo;
using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.LineFriends;

/// <summary>
/// The event pipeline every capability records through: outbox → paced Bulk Create Events jobs. Faults lose
/// nothing and duplicate nothing; a refused event is parked alone; repeated failures park and can be replayed.
/// </summary>
public sealed class KlaviyoEventExportTests : IAsyncLifetime
{
    private LumoApp _app = null!;
    private SandboxTenant _tenant = null!;
    private string _workspaceId = null!;

    public async Task InitializeAsync()
    {
        _app = await LumoApp.StartAsync(runTriggers: false);
        _tenant = await SandboxTenant.CreateAsync();
        _workspaceId = (await _app.CreateAdminClient().CreateWorkspaceAsync(_tenant)).Id();
    }

    public async Task DisposeAsync()
    {
        _tenant.Sandbox.Faults.Remove(r => r.Caller == _tenant.Klaviyo.Id);
        await _app.DisposeAsync();
    }

    private List<string> Profiles(int count) => Enumerable.Range(0, count).Select(_ =>
    {
        var profile = new SimulatedProfile(_tenant.Klaviyo.NewId());
        lock (_tenant.Klaviyo.Gate) _tenant.Klaviyo.Profiles[profile.Id] = profile;
        return profile.Id;
    }).ToList();

    private async Task RecordAsync(IEnumerable<(string ProfileId, string UniqueId)> events, string metric = KlaviyoMetrics.FollowedLineAccount)
    {
        var outbox = _app.Service<KlaviyoEventOutbox>();
        await Parallel.ForEachAsync(events, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (e, ct) =>
            await outbox.AddAsync(new KlaviyoEvent(_workspaceId, e.ProfileId, metric, e.UniqueId, DateTimeOffset.UtcNow, new JsonObject { ["Source"] = "test" }), ct));
    }

    private KlaviyoEventExporter Exporter() => _app.Service<KlaviyoEventExporter>();

    [Fact]
    public async Task ExportsEveryEventExactlyOnceThroughInjectedFaults()
    {
        var profiles = Profiles(50);
        var events = Enumerable.Range(0, 2500).Select(i => (profiles[i % 50], $"evt-{i}")).ToList();
        await RecordAsync(events);
        _tenant.Sandbox.Faults.Add(new FaultRule
        {
            Vendor = "klaviyo", Caller = _tenant.Klaviyo.Id,
            TooManyRequestsRate = 0.1, ServerErrorRate = 0.05, DropConnectionRate = 0.05, FailAfterProcessingRate = 0.15,
        });

        var exported = 0;
        while (await _app.Service<KlaviyoEventOutbox>().HasPendingAsync(_workspaceId, default))
            exported += (await Exporter().ExportAsync(_workspaceId, default)).Sent;

        var recorded = _tenant.Klaviyo.EventsOf(KlaviyoMetrics.FollowedLineAccount);
        Assert.Equal(2500, recorded.Count);
        Assert.Equal(2500, recorded.Select(e => e.UniqueId).Distinct().Count());
        Assert.Empty(await _app.Service<KlaviyoEventOutbox>().ListParkedAsync(_workspaceId, 10, default));
        Assert.DoesNotContain(_tenant.Sandbox.Violations.All, v => v.Caller == _tenant.Klaviyo.Id);
    }

    [Fact]
    public async Task RecordingTheSameEventTwiceSendsItOnce()
    {
        var profile = Profiles(1)[0];
        await RecordAsync([(profile, "same"), (profile, "same"), (profile, "other")]);

        await Exporter().ExportAsync(_workspaceId, default);

        Assert.Equal(2, _tenant.Klaviyo.EventsOf(KlaviyoMetrics.FollowedLineAccount).Count);
        Assert.Equal(0, _tenant.Klaviyo.DuplicateEventsIgnored);
    }

    [Fact]
    public async Task ARefusedEventIsParkedAloneAndTheRestAreSent()
    {
        var profiles = Profiles(49);
        await RecordAsync(profiles.Select((p, i) => (p, $"ok-{i}")).Append(("01KDELETEDPROFILE000000000X", "bad-1")));

        var result = await Exporter().ExportAsync(_workspaceId, default);

        Assert.Equal((49, 1), (result.Sent, result.Parked));
        Assert.Equal(49, _tenant.Klaviyo.EventsOf(KlaviyoMetrics.FollowedLineAccount).Count);
        var parked = await _app.CreateAdminClient().GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{_workspaceId}/klaviyo-events/parked");
        var only = Assert.Single(parked!)!;
        Assert.Equal("bad-1", only["uniqueId"]!.GetValue<string>());
        Assert.Contains("404", only["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task RepeatedServerErrorsParkTheEventsForAnAdministratorToReplay()
    {
        var profiles = Profiles(10);
        await RecordAsync(profiles.Select((p, i) => (p, $"e-{i}")));
        var outage = new FaultRule { Vendor = "klaviyo", Caller = _tenant.Klaviyo.Id, ServiceUnavailableRate = 1, RetryAfterSeconds = 0 };
        _tenant.Sandbox.Faults.Add(outage);

        var during = await Exporter().ExportAsync(_workspaceId, default);

        Assert.Equal(10, during.Parked);
        Assert.Empty(_tenant.Klaviyo.EventsOf(KlaviyoMetrics.FollowedLineAccount));
        Assert.False(await _app.Service<KlaviyoEventOutbox>().HasPendingAsync(_workspaceId, default));

        _tenant.Sandbox.Faults.Remove(r => r == outage);
        var admin = _app.CreateAdminClient();
        var replay = await admin.PostAsync($"/api/manage/workspaces/{_workspaceId}/klaviyo-events/parked/replay", null);
        Assert.Equal(10, (await replay.Content.ReadFromJsonAsync<JsonObject>())!["replayed"]!.GetValue<int>());
        await Exporter().ExportAsync(_workspaceId, default);

        Assert.Equal(10, _tenant.Klaviyo.EventsOf(KlaviyoMetrics.FollowedLineAccount).Count);
        Assert.Empty((await admin.GetFromJsonAsync<JsonArray>($"/api/manage/workspaces/{_workspaceId}/klaviyo-events/parked"))!);
    }

    [Fact]
    public async Task OnlyOneExporterWorksOnAWorkspaceAtATime()
    {
        var profiles = Profiles(20);
        await RecordAsync(Enumerable.Range(0, 3000).Select(i => (profiles[i % 20], $"c-{i}")));

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Exporter().ExportAsync(_workspaceId, default)));

        Assert.Equal(2, results.Count(r => r.LeaseHeldElsewhere));
        Assert.Equal(3000, results.Sum(r => r.Sent));
        Assert.Equal(0, _tenant.Klaviyo.DuplicateEventsIgnored);
    }

    [Fact]
    public async Task AnEventLargerThanOneTableColumnIsStoredAndSentWhole()
    {
        var profile = Profiles(1)[0];
        var text = string.Concat(Enumerable.Repeat("ライン🙂", 20_000)); // 120,000 UTF-16 chars: beyond one 64 KiB string column
        var outbox = _app.Service<KlaviyoEventOutbox>();
        await Task.WhenAll(
            outbox.AddAsync(new KlaviyoEvent(_workspaceId, profile, KlaviyoMetrics.SentLineMessage, "large", DateTimeOffset.UtcNow, new JsonObject { ["Text"] = text }), default),
            outbox.AddAsync(new KlaviyoEvent(_workspaceId, profile, KlaviyoMetrics.SentLineMessage, "small", DateTimeOffset.UtcNow, new JsonObject { ["Text"] = "hi" }), default));

        var result = await Exporter().ExportAsync(_workspaceId, default);

        Assert.Equal(2, result.Sent);
        var large = Assert.Single(_tenant.Klaviyo.EventsOf(KlaviyoMetrics.SentLineMessage), e => e.UniqueId == "large");
        Assert.Equal(text, large.Properties["Text"]!.GetValue<string>());
    }
}
