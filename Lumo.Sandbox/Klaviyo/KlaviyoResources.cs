using System.Text.Json.Nodes;

namespace Lumo.Sandbox.Klaviyo;

/// <summary>JSON:API documents shaped as the Klaviyo spec declares them.</summary>
internal static class KlaviyoResources
{
    public const string Base = "https://a.klaviyo.com";

    /// <summary>The profile attributes besides email, phone, external id and properties that the sandbox keeps.</summary>
    public static readonly string[] StandardAttributes = ["first_name", "last_name", "organization", "title", "location"];

    public static JsonObject Profile(SimulatedProfile p)
    {
        var attributes = new JsonObject
        {
            ["email"] = p.Email,
            ["phone_number"] = p.PhoneNumber,
            ["external_id"] = p.ExternalId,
            ["properties"] = p.Properties.DeepClone(),
            ["created"] = p.Created.ToString("yyyy-MM-ddTHH:mm:ss+00:00"),
            ["updated"] = p.Updated.ToString("yyyy-MM-ddTHH:mm:ss+00:00"),
        };
        foreach (var (field, value) in p.Standard) attributes[field] = value?.DeepClone();
        return new JsonObject { ["type"] = "profile", ["id"] = p.Id, ["attributes"] = attributes, ["links"] = new JsonObject { ["self"] = $"{Base}/api/profiles/{p.Id}/" } };
    }

    /// <summary>A profile as a segment or list member, which also says when it joined.</summary>
    public static JsonObject GroupMember(SimulatedProfile p)
    {
        var resource = Profile(p);
        resource["attributes"]!["joined_group_at"] = p.Created.ToString("yyyy-MM-ddTHH:mm:ss+00:00");
        return resource;
    }

    public static JsonObject Group(string type, ProfileGroup g) => new()
    {
        ["type"] = type,
        ["id"] = g.Id,
        ["attributes"] = type == "segment"
            ? new JsonObject { ["name"] = g.Name, ["is_active"] = true, ["is_processing"] = false, ["is_starred"] = false }
            : new JsonObject { ["name"] = g.Name },
        ["links"] = new JsonObject { ["self"] = $"{Base}/api/{type}s/{g.Id}/" },
    };

    public static JsonObject Collection(IEnumerable<JsonObject> items, string self, string? next)
    {
        var links = new JsonObject { ["self"] = self };
        if (next is not null) links["next"] = next; // the spec does not allow null links
        return new JsonObject { ["data"] = new JsonArray(items.Cast<JsonNode>().ToArray()), ["links"] = links };
    }

    public static JsonObject ImportJob(ProfileImportJob job) => new()
    {
        ["data"] = new JsonObject
        {
            ["type"] = "profile-bulk-import-job",
            ["id"] = job.Id,
            ["attributes"] = new JsonObject
            {
                ["status"] = "complete",
                ["created_at"] = job.CreatedAt.ToString("yyyy-MM-ddTHH:mm:ss+00:00"),
                ["total_count"] = job.Total,
                ["completed_count"] = job.Completed,
                ["failed_count"] = job.Failed,
                ["completed_at"] = job.CreatedAt.ToString("yyyy-MM-ddTHH:mm:ss+00:00"),
            },
            ["links"] = new JsonObject { ["self"] = $"{Base}/api/profile-bulk-import-jobs/{job.Id}/" },
        },
        ["links"] = new JsonObject { ["self"] = $"{Base}/api/profile-bulk-import-jobs/{job.Id}/" },
    };
}
