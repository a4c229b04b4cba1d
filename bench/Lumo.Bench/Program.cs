using Lumo.Bench;
using Lumo.Bench.Scenarios;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.SyncData;
using Lumo.Sandbox;
using Lumo.Sandbox.Infrastructure;
using Lumo.Sandbox.Local;

// Benchmarks print figures measured in this run, against floors and ceilings measured (or enforced) in the same run.
// Usage: dotnet run -c Release --project bench/Lumo.Bench -- [--operations N] [--concurrency C] [--webhooks N] [--flow-sends N] [--backlog N] [--segment N] [--broadcast N] [--consent N] [--sync N] [--resync N] [--shopify-products N] [--only 2|3|4|5|6|7|8|9|10|11|12|13|14]
var operations = ArgValue("--operations", 2000);
var concurrency = ArgValue("--concurrency", 32);
var webhooks = ArgValue("--webhooks", 400);
var backlog = ArgValue("--backlog", 100_000);
var flowSends = ArgValue("--flow-sends", 2000);
var segmentSize = ArgValue("--segment", 100_000);
var broadcastFriends = ArgValue("--broadcast", 100_000);
var consentFriends = ArgValue("--consent", 100_000);
var syncProfiles = ArgValue("--sync", 100_000);
var resyncFriends = ArgValue("--resync", syncProfiles); // 0: scenario 13 runs the pull only
var shopifyProducts = ArgValue("--shopify-products", 20_000);
var only = ArgValue("--only", 0); // run the floor and only this scenario (2 to 14; 6 and 11 run only when asked)
var outageSeconds = ArgValue("--outage-seconds", 60); // scenario 6: the 401 outage lasts this long, the 503 one twice as long
bool Runs(int section) => only == 0 || only == section;

Console.WriteLine($"Lumo bench — {DateTime.UtcNow:u}, {Environment.ProcessorCount} cores");
await using var azurite = await AzuriteProcess.StartAsync();
// The sandbox checks every request Lumo sends against the vendors' documents, and a sample of its own answers (AnswerChecks).
await using var sandbox = await SandboxHost.StartAsync(answerChecks: AnswerChecks.Sample());

Console.WriteLine();
Console.WriteLine($"1. Azurite floor (raw storage operations, in-memory Azurite; {operations} ops, concurrency {concurrency})");
var floor = await AzuriteFloor.RunAsync(azurite.ConnectionString, operations, concurrency);
foreach (var m in floor) Console.WriteLine("   " + m);
var enqueueFloor = floor.Single(m => m.Name == "queue enqueue").PerSecond;
var deleteFloor = floor.Single(m => m.Name.StartsWith("table delete", StringComparison.Ordinal)).PerSecond;

if (Runs(2))
{
Console.WriteLine();
Console.WriteLine($"2. LINE webhook intake ({webhooks} signed bodies of {WebhookIntake.EventsPerBody} events, concurrency 16)");
var (app, _) = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: false);
var intake = await WebhookIntake.RunAsync(app, sandbox, webhooks, 16);
Console.WriteLine("   " + intake);
var eventsPerSecond = intake.PerSecond * WebhookIntake.EventsPerBody;
Console.WriteLine($"   = {eventsPerSecond:N0} events/s; {intake.PerSecond / enqueueFloor:P0} of the Azurite enqueue floor in requests/s " +
                  $"(each body is one signature check and one queue message)");
}

if (Runs(3))
{
Console.WriteLine();
Console.WriteLine($"3. Klaviyo Flow sends ({flowSends} distinct sends to 500 linked friends, concurrency 32)");
// The send is pushed while the webhook waits (the queue is only the fallback), so the webhook's own figures are end to end.
var sendPathFloor = floor.Single(m => m.Name == AzuriteFloor.SendPathFloor).PerSecond;
var dequeueFloor = floor.Single(m => m.Name.StartsWith("queue dequeue", StringComparison.Ordinal)).PerSecond;
using var storageOps = new StorageOperations();
var (e2eApp, e2ePrefix) = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: true);
var e2eSetup = await FlowSendLoad.PrepareAsync(e2eApp, e2ePrefix, azurite.ConnectionString, sandbox, 500, "e2e");
var opsBefore = storageOps.Snapshot();
var e2eClock = System.Diagnostics.Stopwatch.StartNew();
var e2ePosts = await FlowSendLoad.PostAsync(e2eSetup, "Flow webhook, push included", Enumerable.Range(0, flowSends).Select(i => (e2eSetup.Friends[i % 500], $"e2e-{i}")).ToList(), 32);
var e2eElapsed = await FlowSendLoad.WaitForPushesAsync(e2eSetup.Channel, flowSends, e2eClock, TimeSpan.FromMinutes(5));
var pushesPerSecond = e2eSetup.Channel.Pushes.Count / e2eElapsed.TotalSeconds;
var perSend = storageOps.PerUnit(opsBefore, flowSends, out var opsPerSend);
Console.WriteLine("   " + e2ePosts + "   (p50/p99: webhook accepted → LINE push → answer)");
Console.WriteLine($"   end to end: {e2eSetup.Channel.Pushes.Count} pushes reached LINE in {e2eElapsed.TotalSeconds:N1} s = {pushesPerSecond:N0} pushes/s");
Console.WriteLine($"   = {pushesPerSecond / dequeueFloor:N2} × the Azurite queue-dequeue floor ({dequeueFloor:N0}/s; no queue on the happy path)");
Console.WriteLine($"   = {pushesPerSecond / sendPathFloor:N2} × the floor of the send path's own storage work ({sendPathFloor:N0}/s: {AzuriteFloor.SendPathFloor}), the bound it runs into");
Console.WriteLine($"   = {pushesPerSecond / 2000:P1} of LINE's push ceiling (2,000 requests/s per channel)");
Console.WriteLine($"   storage requests per send: {opsPerSend:N2} ({perSend}; includes idle queue polling of every trigger in the process)");
var idle = await FlowSendLoad.PostAsync(e2eSetup, "one at a time (idle)", Enumerable.Range(0, 50).Select(i => (e2eSetup.Friends[i], $"idle-{i}")).ToList(), 1);
Console.WriteLine("   " + idle + "   (one send's whole path with nothing else running)");

const int stormSends = 200, retries = 17;
var storm = Enumerable.Range(0, stormSends).SelectMany(i => Enumerable.Repeat((e2eSetup.Friends[i % 500], $"storm-{i}"), retries))
    .OrderBy(_ => Random.Shared.Next()).ToList();
var before = e2eSetup.Channel.Pushes.Count;
var stormClock = System.Diagnostics.Stopwatch.StartNew();
await FlowSendLoad.PostAsync(e2eSetup, "retry storm", storm, 32);
await FlowSendLoad.WaitForPushesAsync(e2eSetup.Channel, before + stormSends, stormClock, TimeSpan.FromMinutes(5));
// "Nothing more happened" is proven by a marker posted after the storm: anything the storm caused is queued before it.
await FlowSendLoad.PostAsync(e2eSetup, "marker", [(e2eSetup.Friends[0], "storm-marker")], 1);
await FlowSendLoad.WaitForPushesAsync(e2eSetup.Channel, before + stormSends + 1, stormClock, TimeSpan.FromMinutes(5));
var stormPushes = e2eSetup.Channel.Pushes.Count - before - 1;
Console.WriteLine($"   retry storm: {stormSends} sends × {retries} webhook posts ({storm.Count} posts, shuffled, concurrent) → {stormPushes} pushes " +
                  $"(expected {stormSends}; duplicates {Math.Max(0, stormPushes - stormSends)}, missing {Math.Max(0, stormSends - stormPushes)}); " +
                  $"retry keys LINE received again: {Interlocked.Read(ref e2eSetup.Channel.RetryKeyRepeats)}");

}

if (Runs(7))
{
Console.WriteLine();
Console.WriteLine("7. Click redirects: 500 sends with one link, each link followed 4 times by a phone, Klaviyo injecting 2.5% 429 + 2.5% 500");
var (clickApp, clickPrefix) = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: true);
var clickSetup = await FlowSendLoad.PrepareAsync(clickApp, clickPrefix, azurite.ConnectionString, sandbox, 500, "clicks");
var clicked = await ClickRedirects.RunAsync(clickSetup, sandbox, 4, 32);
var pointReads = floor.Single(m => m.Name == "table read (point)").PerSecond;
Console.WriteLine("   " + clicked.Clicks);
Console.WriteLine($"   = {clicked.Clicks.PerSecond / pointReads:N2} × the Azurite point-read floor ({pointReads:N0}/s; a click is one point read, the first per window also one write and two events)");
Console.WriteLine($"   events: {clicked.Clicked} Clicked and {clicked.Opened} Opened for {clicked.Links} links (expected {clicked.Links} each; lost {Math.Max(0, clicked.Links - clicked.Clicked) + Math.Max(0, clicked.Links - clicked.Opened)}), " +
                  $"duplicates Klaviyo received {clicked.DuplicatesReceived}; all in Klaviyo {clicked.EventsSettled.TotalSeconds:N1} s after the last click");
}

if (Runs(8))
{
Console.WriteLine();
Console.WriteLine($"8. Broadcast to a segment of {broadcastFriends:N0} friends (20 % ID-linked: Sent and Delivered events for them), multicasts of 500");
using var broadcastOps = new StorageOperations();
var (broadcastApp, broadcastPrefix) = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: true);
var broadcast = await SegmentBroadcast.RunAsync(azurite.ConnectionString, sandbox, broadcastApp, broadcastPrefix, broadcastFriends, 0.2, broadcastOps);
var recipientsPerSecond = broadcast.Recipients / broadcast.Elapsed.TotalSeconds;
const double lineCeiling = 2_000.0 * 500; // multicast: 2,000 requests/s × 500 recipients
var floorPerSecond = broadcast.Friends / broadcast.Floor.TotalSeconds;
Console.WriteLine($"   {broadcast.Recipients:N0} recipients in {broadcast.Elapsed.TotalSeconds:N1} s (request → last multicast) = {recipientsPerSecond:N0} recipients/s over {broadcast.Multicasts} multicasts");
Console.WriteLine($"   prepared (audience evaluated, chunks written) after {broadcast.Prepared.TotalSeconds:N1} s, first multicast at {broadcast.FirstPush.TotalSeconds:N1} s");
Console.WriteLine($"   = {recipientsPerSecond / lineCeiling:P2} of LINE's multicast ceiling ({lineCeiling:N0} recipients/s)");
Console.WriteLine($"   = {recipientsPerSecond / floorPerSecond:N2} × the Azurite floor of the same storage work alone ({floorPerSecond:N0} recipients/s, {broadcast.Floor.TotalSeconds:N1} s), " +
                  $"the bound that binds ({(floorPerSecond < lineCeiling ? "Azurite" : "LINE")} is the lower)");
Console.WriteLine($"   storage requests per recipient: {broadcast.StorageRequestsPerRecipient:N4}; per 1,000 recipients: {broadcast.StorageBreakdown}");
Console.WriteLine($"   pushes LINE received {broadcast.Pushes:N0}: duplicates {broadcast.Duplicates}, missing {broadcast.Missing}; retry keys received again {broadcast.RetryKeyRepeats}");
}

if (only == 11)
{
Console.WriteLine();
Console.WriteLine($"11. Broadcast to {broadcastFriends:N0} friends with the app in its own process, killed at about 40 % and started again");
var crash = await BroadcastCrash.RunAsync(azurite.ConnectionString, sandbox, broadcastFriends, 0.4);
Console.WriteLine($"   killed with {crash.ReachedAtKill:N0} recipients reached; after the restart: {crash.FinalStatus} in {crash.RestartToDone.TotalSeconds:N1} s " +
                  "(chunks in flight at the kill come back when the queue's 5-minute message lease runs out)");
Console.WriteLine($"   LINE received: {crash.Reached:N0} of {crash.Friends:N0} recipients, duplicates {crash.Duplicates}, missing {crash.Missing}; " +
                  $"retry keys received again {crash.RetryKeyRepeats} (each one a chunk LINE recognised and did not send again); " +
                  $"Klaviyo events received again {crash.DuplicateEventsReceived} (ignored by unique_id)");
}

if (Runs(9))
{
Console.WriteLine();
Console.WriteLine("9. Segment evaluation: \"in list A and in list B\" over all-linked friends (lists of half the friends each), at two sizes");
var (countApp, countPrefix) = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: false);
foreach (var size in new[] { broadcastFriends / 5, broadcastFriends })
{
    var count = await SegmentCount.RunAsync(azurite.ConnectionString, sandbox, countApp, countPrefix, size);
    Console.WriteLine($"   {size:N0} friends, {count.ListMembers:N0} list members: {count.Evaluation.Members:N0} members in {count.Elapsed.TotalSeconds:N1} s; " +
                      $"{count.Pages} list pages ({count.Throttled} throttled) read in {count.ListsRead.TotalSeconds:N1} s; the limits allow them in {KlaviyoCeilings.FastestAllowed(count.Pages).TotalSeconds:N1} s at the fastest = " +
                      $"{KlaviyoCeilings.FastestAllowed(count.Pages) / count.ListsRead:N2} of the Klaviyo ceiling (whole evaluation {KlaviyoCeilings.FastestAllowed(count.Pages) / count.Elapsed:N2}, the rest is the friend scan); " +
                      $"managed memory added at peak: {count.PeakExtraBytes / 1_048_576.0:N1} MiB; garbage collection held the process still for {count.GcPause.TotalSeconds:N1} s");
}
}

if (Runs(10))
{
Console.WriteLine();
Console.WriteLine($"10. Rich menu sync: a menu assigned to a segment of all {broadcastFriends:N0} friends (every membership changed), then a sync with nothing changed");
var (menuApp, menuPrefix) = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: true);
var menus = await RichMenuLinking.RunAsync(azurite.ConnectionString, sandbox, menuApp, menuPrefix, broadcastFriends);
var linksPerSecond = menus.Linked / menus.Elapsed.TotalSeconds;
const double bulkLinkCeiling = 2_000.0 * 500; // bulk link: 2,000 requests/s × 500 users
var menuFloor = menus.Friends / menus.Floor.TotalSeconds;
Console.WriteLine($"   {menus.Linked:N0} users linked in {menus.Elapsed.TotalSeconds:N1} s (assignment → sync recorded) = {linksPerSecond:N0} users/s over {menus.Requests} bulk-link requests; LINE changed {menus.UsersLineChanged:N0} users");
Console.WriteLine($"   = {linksPerSecond / bulkLinkCeiling:P2} of LINE's bulk-link ceiling ({bulkLinkCeiling:N0} users/s); = {linksPerSecond / menuFloor:N2} × the Azurite floor of the same storage work alone " +
                  $"({menuFloor:N0} users/s: friends scanned, one link row each), the bound that binds ({(menuFloor < bulkLinkCeiling ? "Azurite" : "LINE")} is the lower)");
Console.WriteLine($"   a sync with nothing changed: {menus.QuietSync.TotalSeconds:N1} s, {menus.QuietRequests} requests to LINE");
}

if (Runs(12))
{
Console.WriteLine();
Console.WriteLine($"12. Update LINE Consent Status of {consentFriends:N0} stored friends (20 % linked), 2 % of whom blocked the account unseen: with LINE's follower list, then through the profile API");
var (consentApp, consentPrefix) = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: false);
var (listed, asked, consentFloor) = await ConsentRefreshRun.RunAsync(azurite.ConnectionString, sandbox, consentApp, consentPrefix, consentFriends);
foreach (var run in new[] { listed, asked })
{
    var perSecond = run.Friends / run.Elapsed.TotalSeconds;
    Console.WriteLine($"   {run.Mode}: {run.Friends:N0} friends in {run.Elapsed.TotalSeconds:N1} s = {perSecond:N0} friends/s over {run.LineRequests:N0} LINE requests ({run.Throttled} throttled); " +
                      $"{run.Run.Status}: {string.Join(", ", run.Run.Counts.Select(c => $"{c.Key} {c.Value}"))}; managed memory added at peak: {run.PeakExtraBytes / 1_048_576.0:N1} MiB; garbage collection held the process still for {run.GcPause.TotalSeconds:N1} s");
}
const double followerListCeiling = 2_000.0 * 1_000; // 2,000 requests/s × 1,000 IDs a page
var consentFloorPerSecond = listed.Friends / consentFloor.TotalSeconds;
var listedPerSecond = listed.Friends / listed.Elapsed.TotalSeconds;
Console.WriteLine($"   follower list = {listedPerSecond / followerListCeiling:P2} of LINE's ceiling ({followerListCeiling:N0} IDs/s) and {listedPerSecond / consentFloorPerSecond:N2} × the Azurite floor of the same storage work " +
                  $"({consentFloorPerSecond:N0} friends/s: IDs written 100 a transaction, both partitions scanned, the changed friends replaced 100 a transaction), the bound that binds ({(consentFloorPerSecond < followerListCeiling ? "Azurite" : "LINE")} is the lower)");
Console.WriteLine($"   profile API = {asked.Friends / asked.Elapsed.TotalSeconds / 2_000:P0} of LINE's ceiling (2,000 profile requests/s; Lumo paces itself at {ConsentRefresh.ProfileCallsPerSecond:N0}/s and sends at most {ConsentRefresh.ProfileCallsPerRollingSecond:N0} in any second)");
}

if (Runs(13))
{
Console.WriteLine();
Console.WriteLine($"13. Sync Data: a Klaviyo pull of {syncProfiles:N0} changed profiles (a fifth linked, first_name pulled), then two resyncs of {resyncFriends:N0} linked friends (first_name new on every friend, and already pulled)");
var (syncApp, syncPrefix) = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: false);
var syncRuns = new List<SyncDataRuns.Result> { await SyncDataRuns.PullAsync(azurite.ConnectionString, sandbox, syncApp, syncPrefix, syncProfiles) };
if (resyncFriends > 0)
    foreach (var alreadyPulled in new[] { false, true })
        syncRuns.Add(await SyncDataRuns.ResyncAsync(azurite.ConnectionString, sandbox, syncApp, syncPrefix, resyncFriends, alreadyPulled));
foreach (var sync in syncRuns)
{
    var fastest = KlaviyoCeilings.FastestAllowed(sync.PageRequests, sync.Started);
    Console.WriteLine($"   {sync.Name}: {sync.Profiles:N0} profiles in {sync.Elapsed.TotalSeconds:N1} s = {sync.Profiles / sync.Elapsed.TotalSeconds:N0} profiles/s over {sync.PageRequests} page requests " +
                      $"({sync.Throttled} throttled); {sync.Run.Status}: {string.Join(", ", sync.Run.Counts.Select(c => $"{c.Key} {c.Value}"))}, failures {sync.Run.Failures}");
    Console.WriteLine($"   = {fastest / sync.Elapsed:N2} of the profiles endpoint's ceiling (the sandbox's limits allowed those pages in {fastest.TotalSeconds:N1} s at the fastest from this run's start: 75/s, 750/min " +
                      $"in clock-aligned windows; {KlaviyoCeilings.FastestAllowed(sync.PageRequests).TotalSeconds:N1} s for the least lucky start); " +
                      $"profiles written in bulk imports {sync.ProfilesImported:N0}{(sync.FirstImportJob is { } first ? $" (the first job {first.TotalSeconds:N1} s into the run)" : "")}; managed memory added at peak: {sync.PeakExtraBytes / 1_048_576.0:N1} MiB, still held after the run: " +
                      $"{sync.HeldAfterBytes / 1_048_576.0:N1} MiB (the in-process sandbox's state, such as the properties the imports gave its profiles); garbage collection held the process still for {sync.GcPause.TotalSeconds:N1} s");
    var readFloor = sync.Profiles / sync.ReadFloor.TotalSeconds; // profiles/s if reading the linked friends were all it took
    var workFloor = sync.Profiles / sync.Floor.TotalSeconds;
    var klaviyoCeiling = sync.PageRequests * 100 / fastest.TotalSeconds;
    var profilesPerSecond = sync.Profiles / sync.Elapsed.TotalSeconds;
    Console.WriteLine($"   = {profilesPerSecond / Math.Min(readFloor, klaviyoCeiling):N2} of the lower bound: the Azurite read floor ({sync.LinkedFriends / sync.ReadFloor.TotalSeconds:N0} linked friends/s: " +
                      $"a point read each, {sync.ReadFloor.TotalSeconds:N1} s) or the profiles endpoint, whichever allows fewer profiles/s ({(readFloor < klaviyoCeiling ? "Azurite" : "Klaviyo")} here); " +
                      $"{profilesPerSecond / workFloor:N2} × the floor of its whole friend work ({sync.LinkedFriends / sync.Floor.TotalSeconds:N0} linked friends/s: those reads{(sync.Floor == sync.ReadFloor ? "" : " and a transaction per page's merges")}, {sync.Floor.TotalSeconds:N1} s)");
    Console.WriteLine($"   processor time: the run {sync.Cpu}; the read floor {sync.ReadFloorCpu}");
}
}

if (Runs(14))
{
Console.WriteLine();
Console.WriteLine($"14. Shopify: first product sync of a {shopifyProducts / 4:N0}- and a {shopifyProducts:N0}-product store (Plus plan: 20,000-point bucket, 1,000 points/s)");
foreach (var size in new[] { shopifyProducts / 4, shopifyProducts })
{
    var sync = await ShopifyProductSyncRun.RunAsync(azurite.ConnectionString, sandbox, "sh" + BenchWorkspace.Hex(3), size, Lumo.Sandbox.Shopify.ShopifyPlan.Plus);
    Console.WriteLine($"   {sync.Stored:N0} of {sync.Products:N0} products stored in {sync.Elapsed.TotalSeconds:N1} s = {sync.Products / sync.Elapsed.TotalSeconds:N0} products/s; " +
                      $"{sync.PointsCharged:N0} points charged ({sync.PointsCharged / (double)sync.Products:N1} a product), {sync.Throttled} throttled; managed memory added at peak: {sync.PeakExtraBytes / 1_048_576.0:N1} MiB; garbage collection held the process still for {sync.GcPause.TotalSeconds:N1} s");
    Console.WriteLine($"   = {sync.Ceiling / sync.Elapsed:N2} of the cost-based ceiling the sandbox enforced (those points allowed in {sync.Ceiling.TotalSeconds:N1} s at the fastest: " +
                      $"the full {sync.Plan.BucketSize:N0}-point bucket, then {sync.Plan.RestoreRate:N0} points/s)");
}
}

if (Runs(5))
{
Console.WriteLine();
Console.WriteLine($"5. Existing-ID import (runs before 4, whose backlog weighs on Azurite): source segments of {segmentSize / 10:N0} and {segmentSize:N0} profiles, 2 % of them new friends to link");
var (importApp, importPrefix) = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: false);
foreach (var size in new[] { segmentSize / 10, segmentSize })
{
    var import = await ExistingIdImport.RunAsync(azurite.ConnectionString, sandbox, importApp, importPrefix, size, 0.02);
    var perSecond = import.Profiles / import.Elapsed.TotalSeconds;
    var steady = KlaviyoRateLimits.SegmentProfilesPerMinute / 60.0 * 100;
    var allowedPages = Math.Min(KlaviyoRateLimits.SegmentProfilesPerSecond * import.Elapsed.TotalSeconds, KlaviyoRateLimits.SegmentProfilesPerMinute * Math.Ceiling(import.Elapsed.TotalSeconds / 60));
    Console.WriteLine($"   {size:N0} profiles in {import.Elapsed.TotalSeconds:N1} s = {perSecond:N0} profiles/s over {import.Requests} page requests ({import.Throttled} throttled by the sandbox); " +
                      $"linked {import.Run.Linked}, already linked {import.Run.AlreadyLinked}, conflicts {import.Run.Conflicts}");
    Console.WriteLine($"   = {perSecond / steady:P0} of the steady ceiling ({steady:N0} profiles/s = 750 pages/min × 100), {import.Requests / allowedPages:P0} of the pages the limits allowed in that time; " +
                      $"managed memory added at peak: {import.PeakExtraBytes / 1_048_576.0:N1} MiB; garbage collection held the process still for {import.GcPause.TotalSeconds:N1} s");
}
}

if (only == 6)
{
Console.WriteLine();
Console.WriteLine($"6. Klaviyo outages against the running app: 401 for {outageSeconds} s then the key replaced, 503 for {2 * outageSeconds} s; 2,000 events recorded during each");
var (outageApp, outagePrefix) = await FunctionApp.StartAsync(azurite.ConnectionString, sandbox.BaseUrl, runTriggers: true);
foreach (var outage in new[]
{
    await KlaviyoOutages.RevokedKeyAsync(outageApp, outagePrefix, azurite.ConnectionString, sandbox, TimeSpan.FromSeconds(outageSeconds), 2000),
    await KlaviyoOutages.ServiceUnavailableAsync(outageApp, outagePrefix, azurite.ConnectionString, sandbox, TimeSpan.FromSeconds(2 * outageSeconds), 2000),
})
    Console.WriteLine($"   {outage.Name}: {outage.Delivered:N0} of {outage.Recorded:N0} delivered, duplicates received {outage.DuplicatesReceived}, parked {outage.Parked}, " +
                      $"states {string.Join(" → ", outage.StatesSeen)}, last event {outage.CatchUp.TotalSeconds:N1} s after the outage ended");
}

if (Runs(4))
{
Console.WriteLine();
Console.WriteLine($"4. Klaviyo event export (last: its 100,000 rows weigh on Azurite afterwards): {backlog:N0}-event backlog, sandbox injecting 2.5% 429 + 2.5% 500");
var export = await EventExport.RunAsync(azurite.ConnectionString, sandbox, backlog);
var achieved = export.Recorded / export.Elapsed.TotalSeconds;
var steadyCeiling = KlaviyoRateLimits.BulkEventsPerMinute / 60.0 * KlaviyoEventExporter.MaxEventsPerRequest;
Console.WriteLine($"   {export.Recorded:N0} recorded in {export.Elapsed.TotalSeconds:N1} s = {achieved:N0} events/s over {export.Requests} bulk requests ({export.Throttled} throttled by the sandbox)");
Console.WriteLine($"   = {achieved / steadyCeiling:P0} of the steady ceiling ({steadyCeiling:N0} events/s = 150 requests/min × 1,000)");
// A sliding minute lets a run shorter than a few minutes spend a whole minute's allowance in a burst, so compare with
// what the limits allowed in the time this run took, too.
var allowedRequests = Math.Min(10 * export.Elapsed.TotalSeconds, KlaviyoRateLimits.BulkEventsPerMinute * Math.Ceiling(export.Elapsed.TotalSeconds / 60));
Console.WriteLine($"   = {export.Requests / allowedRequests:P0} of the requests the published limits allow in {export.Elapsed.TotalSeconds:N0} s ({allowedRequests:N0}: 10/s burst, 150 per sliding minute)");
Console.WriteLine($"   outbox rows: {export.Rows:N0} ({(double)export.Backlog / export.Rows:N1} events per row from group commit with 16 concurrent recorders); rows removed {export.Rows / export.Elapsed.TotalSeconds:N0}/s = {export.Rows / export.Elapsed.TotalSeconds / deleteFloor:P0} of the Azurite delete floor ({deleteFloor:N0} rows/s)");
Console.WriteLine($"   lost: {export.Backlog - export.Distinct}, parked: {export.Parked}, duplicates the sandbox received (same unique_id again): {export.DuplicatesIgnored}");
}
Console.WriteLine();
var violations = sandbox.Violations.All;
Console.WriteLine($"Contract violations the sandbox saw (every request checked, a sample of its answers): {violations.Count}{string.Concat(violations.Take(5).Select(v => "\n   " + v))}");
Environment.Exit(0); // the function app runs on a background thread until the process ends

int ArgValue(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}
