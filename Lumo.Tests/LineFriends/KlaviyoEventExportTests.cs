using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Storage;
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
    private readonly StorageRequestCounter _storage = new();
    private SandboxTenant _tenant = null!;
    private string _workspaceId = null!;

    public async Task InitializeAsync()
    {
        // A short lease, so that renewal (and a crashed holder's expiry) shows within seconds.
        var storage = await TestEnvironment.StorageConnectionStringAsync();
        _app = await LumoApp.StartAsync(runTriggers: false, settings: new() { ["Lumo:KlaviyoEvents:LeaseDuration"] = "00:00:02", ["Lumo:KlaviyoEvents:MaxBackoff"] = "00:00:02" },
            services: s => StorageRequestCounter.Install(s, storage, _storage));
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

    private async Task RecordAsync(IEnumerable<(string ProfileId, string UniqueId)> events, string metric = KlaviyoMetrics.FollowedLineAccount, DateTimeOffset? at = null)
    {
        var outbox = _app.Service<KlaviyoEventOutbox>();
        await Parallel.ForEachAsync(events, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (e, ct) =>
            await outbox.AddAsync(new KlaviyoEvent(_workspaceId, e.ProfileId, metric, e.UniqueId, at ?? DateTimeOffset.UtcNow, new JsonObject { ["Source"] = "test" }), ct));
    }

    private long DuplicatesReceived => Interlocked.Read(ref _tenant.Klaviyo.DuplicateEventsIgnored);
    private long RepeatsExplainedByFaults => _tenant.Sandbox.Faults.FailedAfterProcessing.GetValueOrDefault(_tenant.Klaviyo.Id);

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
        // Klaviyo received events again only where an injected fault answered 500 after processing a request, whose
        // up to 1,000 events then had to be sent again: no repeat without such a cause.
        Assert.True(DuplicatesReceived <= RepeatsExplainedByFaults * KlaviyoEventExporter.MaxEventsPerRequest,
            $"{DuplicatesReceived} events received twice, {RepeatsExplainedByFaults} requests failed after processing");
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
    public async Task AKlaviyoOutageDelaysEventsButParksNothingAndDeliversEachOnce()
    {
        var profiles = Profiles(10);
        await RecordAsync(Enumerable.Range(0, 300).Select(i => (profiles[i % 10], $"o-{i}")));
        _tenant.Sandbox.Faults.Add(new FaultRule { Vendor = "klaviyo", Caller = _tenant.Klaviyo.Id, ServiceUnavailableRate = 0.6, ServerErrorRate = 0.2,
            DropConnectionRate = 0.2, RetryAfterSeconds = 1, ActiveUntil = DateTimeOffset.UtcNow.AddSeconds(8) });

        var result = await Exporter().ExportAsync(_workspaceId, default);

        Assert.Equal((300, 0), (result.Sent, result.Parked));
        Assert.Equal(300, _tenant.Klaviyo.EventsOf(KlaviyoMetrics.FollowedLineAccount).Count);
        Assert.Equal(0, DuplicatesReceived);
        Assert.Empty(await _app.Service<KlaviyoEventOutbox>().ListParkedAsync(_workspaceId, 10, default));
    }

    [Fact]
    public async Task EventsPastTheirUsefulAgeAreParkedDuringAnOutageForAnAdministratorToReplay()
    {
        var profiles = Profiles(10);
        await RecordAsync(profiles.Select((p, i) => (p, $"e-{i}")), at: DateTimeOffset.UtcNow.AddDays(-8)); // older than MaxRetryAge (7 days)
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
    public async Task AnExporterWaitingOutAnOutageKeepsItsShortLeaseAndACrashedOnesLeaseExpires()
    {
        var profiles = Profiles(5);
        await RecordAsync(profiles.Select((p, i) => (p, $"l-{i}")));
        // A crashed exporter left its lease behind: the workspace waits one lease duration (2 s here), not minutes.
        var leases = _app.Service<Lumo.Core.Storage.LeaseStore>();
        Assert.True(await leases.TryAcquireAsync("klaviyo-event-export", _workspaceId, "crashed-exporter", TimeSpan.FromSeconds(2), default));
        Assert.True((await Exporter().ExportAsync(_workspaceId, default)).LeaseHeldElsewhere);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        _tenant.Sandbox.Faults.Add(new FaultRule { Vendor = "klaviyo", Caller = _tenant.Klaviyo.Id, ServiceUnavailableRate = 1, RetryAfterSeconds = 1,
            ActiveUntil = DateTimeOffset.UtcNow.AddSeconds(7) });

        var waiting = Exporter().ExportAsync(_workspaceId, default);
        await Task.Delay(TimeSpan.FromSeconds(4.5)); // past the lease duration: only renewal keeps it
        var second = await Exporter().ExportAsync(_workspaceId, default);
        var first = await waiting;

        Assert.True(second.LeaseHeldElsewhere);
        Assert.Equal((5, 0), (first.Sent, first.Parked));
        Assert.Equal(5, _tenant.Klaviyo.EventsOf(KlaviyoMetrics.FollowedLineAccount).Count);
    }

    [Fact]
    public async Task TakingABatchReadsRowsByEventsNotWholePages()
    {
        var profile = Profiles(1)[0];
        // 30 rows of 100 events each (as group commit writes them under load).
        await _app.Service<KlaviyoEventOutbox>().AddManyAsync(Enumerable.Range(0, 3000).Select(i =>
            new KlaviyoEvent(_workspaceId, profile, KlaviyoMetrics.FollowedLineAccount, $"m-{i}", DateTimeOffset.UtcNow, [])), default);

        _storage.Reset();
        var batch = await _app.Service<KlaviyoEventOutbox>().TakeAsync(_workspaceId, 150, int.MaxValue, default);
        var outboxRowsRead = _storage.EntitiesRead(nameof(TableNames.KlaviyoEventOutbox));

        Assert.Equal(150, batch.Count);
        Assert.True(batch.Select(e => e.Key).Distinct().Count() == 150);
        Assert.InRange(outboxRowsRead, 2, 3); // 150 events need two rows of 100; a whole page would be up to 1,000 rows
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
