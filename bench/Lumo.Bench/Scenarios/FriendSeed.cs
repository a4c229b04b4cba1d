using Azure.Data.Tables;
using Lumo.Sandbox;
using Lumo.Sandbox.Klaviyo;
using Lumo.Sandbox.Line;

namespace Lumo.Bench.Scenarios;

/// <summary>Friends of a bench account, known to the sandbox's LINE and stored as the follow webhooks would have left them; a share linked to Klaviyo profiles.</summary>
public static class FriendSeed
{
    /// <summary>
    /// With <paramref name="otherProfilesPerLinked"/>, that many profiles of no friend follow each linked one in Klaviyo's id
    /// order, as in an account where LINE friends signed up among everybody else (not all first).
    /// </summary>
    public static async Task<(List<string> UserIds, List<string> LinkedProfileIds)> SeedAsync(TableServiceClient tables, string prefix, SandboxHost sandbox, BenchWorkspace bench,
        int friends, double linkedShare, int otherProfilesPerLinked = 0)
    {
        var friendTable = tables.GetTableClient(prefix + "LineFriends");
        await friendTable.CreateIfNotExistsAsync();
        var partition = $"{bench.WorkspaceId}:{bench.AccountId}";
        var users = new List<string>(friends);
        var profiles = new List<string>();
        var rows = new List<TableEntity>(friends);
        for (var i = 0; i < friends; i++)
        {
            var userId = "U" + BenchWorkspace.Hex(16);
            users.Add(userId);
            sandbox.Line.Users[userId] = new LineUser(userId, $"Fan {i}");
            bench.Channel.Friends[userId] = new Friendship(userId, false);
            var row = new TableEntity(partition, userId) { ["FollowStatus"] = "Friend", ["Consent"] = "Granted", ["DisplayName"] = $"Fan {i}" };
            if (i < friends * linkedShare)
            {
                var profile = new SimulatedProfile(bench.Klaviyo.NewId());
                lock (bench.Klaviyo.Gate)
                {
                    bench.Klaviyo.Profiles[profile.Id] = profile;
                    for (var other = 0; other < otherProfilesPerLinked; other++)
                    {
                        var unlinked = new SimulatedProfile(bench.Klaviyo.NewId());
                        bench.Klaviyo.Profiles[unlinked.Id] = unlinked;
                    }
                }
                row["KlaviyoProfileId"] = profile.Id;
                profiles.Add(profile.Id);
            }
            rows.Add(row);
        }
        // Lumo's own column layout, 100 rows a transaction.
        await Parallel.ForEachAsync(rows.OrderBy(r => r.RowKey, StringComparer.Ordinal).Chunk(100), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (batch, ct) =>
            await friendTable.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)), ct));
        return (users, profiles);
    }
}
