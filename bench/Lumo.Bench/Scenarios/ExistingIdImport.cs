using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Lumo.Core.IdLinkage;
using Lumo.Sandbox;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Bench.Scenarios;

/// <summary>
/// Existing-ID import of a large source segment, as the quarter-hour run meets it: most profiles were linked by
/// earlier runs (their LINE properties are on the profile), a few are new friends Lumo has never seen. Measures
/// profiles/s against the segment-members limits the sandbox enforces, and the live managed memory the run adds (sampled after full collections each second; the sandbox shares the process).
/// </summary>
public static class ExistingIdImport
{
    public sealed record Result(int Profiles, int NewLinks, TimeSpan Elapsed, long Requests, long Throttled, long PeakExtraBytes, TimeSpan GcPause, LinkImportRun Run);

    public static async Task<Result> RunAsync(string storage, SandboxHost sandbox, Uri app, string prefix, int profiles, double newShare)
    {
        using var bench = await BenchWorkspace.CreateAsync(app, sandbox, "Import bench", "imp" + BenchWorkspace.Hex(3));
        var (channel, klaviyo, workspaceId, accountId, admin) = bench;
        var segment = new ProfileGroup("SEGBENCH" + workspaceId, "Has LINE ID", []);
        var newLinks = (int)(profiles * newShare);
        for (var i = 0; i < profiles; i++)
        {
            var userId = "U" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
            var profile = new SimulatedProfile(klaviyo.NewId());
            profile.Properties["legacy_line_id"] = userId;
            if (i >= newLinks)
            {
                // Linked by an earlier run: the LINE properties are already on the profile.
                profile.Properties["LINE User ID"] = userId;
                profile.Properties["LINE Follow Status"] = "friend";
            }
            else
            {
                sandbox.Line.Users[userId] = new LineUser(userId, $"New friend {i}");
                channel.Friends[userId] = new Friendship(userId, false);
            }
            lock (klaviyo.Gate) klaviyo.Profiles[profile.Id] = profile;
            segment.ProfileIds.Add(profile.Id);
        }
        klaviyo.Segments[segment.Id] = segment;

        (await admin.PutAsJsonAsync($"api/manage/workspaces/{workspaceId}/accounts/{accountId}/id-linkage",
            new { import = new { segmentId = segment.Id, lineUserIdProperty = "legacy_line_id" } })).EnsureSuccessStatusCode();

        await using var services = BenchServices.Create(storage, sandbox, prefix);
        var import = services.GetRequiredService<LineUserIdImport>();

        var requestsBefore = sandbox.Requests.CountOf(klaviyo.Id, "GET", "/api/segments/{id}/profiles");
        var throttledBefore = sandbox.Limiter.Limited.GetValueOrDefault("klaviyo:segments");
        var memory = new MemorySampler();
        var clock = Stopwatch.StartNew();
        var run = await import.RunAsync(new LineUserIdImportRequest(workspaceId, accountId), default);
        clock.Stop();
        await memory.DisposeAsync();
        return new Result(profiles, newLinks, clock.Elapsed, sandbox.Requests.CountOf(klaviyo.Id, "GET", "/api/segments/{id}/profiles") - requestsBefore,
            sandbox.Limiter.Limited.GetValueOrDefault("klaviyo:segments") - throttledBefore, memory.PeakExtraBytes, memory.GcPause, run!);
    }
}
