using System.Diagnostics;
using Azure.Data.Tables;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.Segments;
using Lumo.Sandbox;
using Lumo.Sandbox.Klaviyo;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// Evaluates "in list A and in list B" over an account's friends (all ID-linked), as a broadcast or a count does:
/// both lists read page by page within Klaviyo's list-members limits, then the friends scanned. Measures the pages
/// read against what the limits allowed in the time taken, and the live managed memory the evaluation adds.
/// </summary>
public static class SegmentCount
{
    public sealed record Result(int Friends, int ListMembers, SegmentEvaluation Evaluation, TimeSpan Elapsed, TimeSpan ListsRead, long Pages, long Throttled, long PeakExtraBytes, TimeSpan GcPause);

    public static async Task<Result> RunAsync(string storage, SandboxHost sandbox, Uri app, string prefix, int friends)
    {
        using var bench = await BenchWorkspace.CreateAsync(app, sandbox, "Segment bench", "sg" + BenchWorkspace.Hex(3));
        var (_, profiles) = await FriendSeed.SeedAsync(new TableServiceClient(storage), prefix, sandbox, bench, friends, 1.0);
        // Two lists of half the friends each, overlapping in a quarter.
        var listA = new ProfileGroup("LSTA" + BenchWorkspace.Hex(2), "A", profiles.Take(friends / 2).ToList());
        var listB = new ProfileGroup("LSTB" + BenchWorkspace.Hex(2), "B", profiles.Skip(friends / 4).Take(friends / 2).ToList());
        bench.Klaviyo.Lists[listA.Id] = listA;
        bench.Klaviyo.Lists[listB.Id] = listB;
        var errors = new Dictionary<string, string[]>();
        var rule = SegmentConditionParser.Parse(System.Text.Json.Nodes.JsonNode.Parse($$"""{"all":[{"inList":"{{listA.Id}}"},{"inList":"{{listB.Id}}"}]}"""), "conditions", errors)!;

        await using var services = FunctionApp.CoreServices(storage, prefix, sandbox.BaseUrl);
        var evaluator = services.GetRequiredService<SegmentEvaluator>();
        var pagesBefore = sandbox.Requests.CountOf(bench.Klaviyo.Id, "GET", "/api/lists/{id}/profiles");
        var throttledBefore = sandbox.Limiter.Limited.GetValueOrDefault("klaviyo:segments");
        var memory = new MemorySampler();
        var clock = Stopwatch.StartNew();
        TimeSpan? listsRead = null; // the first page of members comes right after the lists were read (and one page of friends scanned)
        var evaluation = await evaluator.EvaluateAsync(bench.WorkspaceId, bench.AccountId, rule, _ =>
        {
            listsRead ??= clock.Elapsed;
            return Task.CompletedTask;
        }, default);
        clock.Stop();
        await memory.DisposeAsync();
        return new Result(friends, listA.ProfileIds.Count + listB.ProfileIds.Count, evaluation, clock.Elapsed, listsRead ?? clock.Elapsed,
            sandbox.Requests.CountOf(bench.Klaviyo.Id, "GET", "/api/lists/{id}/profiles") - pagesBefore,
            sandbox.Limiter.Limited.GetValueOrDefault("klaviyo:segments") - throttledBefore, memory.PeakExtraBytes, memory.GcPause);
    }
}
