using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Lumo.Sandbox.Infrastructure;

namespace Lumo.Sandbox.Line;

/// <summary>
/// The simulated rich menu API: create (LINE's size and area rules), image upload on the data host (JPEG or PNG of
/// exactly the menu's size, at most 1 MB, once), default menu, per-user links in bulk (≤ 500, answered 202) and the
/// menu a user sees. https://developers.line.biz/en/reference/messaging-api/#rich-menu
/// </summary>
public static class RichMenuEndpoints
{
    private const int MaxImageBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapRichMenuApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v2/bot/richmenu", Create);
        routes.MapPost("/v2/bot/richmenu/{richMenuId}/content", Upload);
        routes.MapDelete("/v2/bot/richmenu/{richMenuId}", (string richMenuId, HttpContext c, LineState s, LineMessagingVendor v) =>
            Channel(c, s).RichMenus.TryRemove(richMenuId, out _) ? Results.Json(new { }) : v.Error(404, "Not found"));
        routes.MapPost("/v2/bot/user/all/richmenu/{richMenuId}", SetDefault);
        routes.MapGet("/v2/bot/user/all/richmenu", (HttpContext c, LineState s, LineMessagingVendor v) =>
            Channel(c, s).DefaultRichMenuId is { } id ? Results.Json(new { richMenuId = id }) : v.Error(404, "no default rich menu"));
        routes.MapPost("/v2/bot/richmenu/bulk/link", Link);
        routes.MapPost("/v2/bot/richmenu/bulk/unlink", Unlink);
        routes.MapGet("/v2/bot/user/{userId}/richmenu", (string userId, HttpContext c, LineState s, LineMessagingVendor v) =>
            Channel(c, s).UserRichMenus.TryGetValue(userId, out var id) ? Results.Json(new { richMenuId = id }) : v.Error(404, "the user has no rich menu linked"));
        return routes;
    }

    private static LineChannel Channel(HttpContext context, LineState state) => LineMessagingEndpoints.Channel(context, state);

    private static async Task<IResult> Create(HttpContext context, LineState state, LineMessagingVendor vendor)
    {
        var menu = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var (width, height) = (menu["size"]?["width"]?.GetValue<long>() ?? 0, menu["size"]?["height"]?.GetValue<long>() ?? 0);
        if (width is < 800 or > 2500 || height < 250 || width < 1.45 * height)
            return vendor.Error(400, "The request body has 1 error(s)", ["size: must be 800 to 2500 pixels wide, at least 250 high, and at least 1.45 times as wide as high"]);
        if (menu["areas"] is not JsonArray { Count: >= 1 and <= 20 } areas)
            return vendor.Error(400, "The request body has 1 error(s)", ["areas: between 1 and 20 areas are required"]);
        for (var i = 0; i < areas.Count; i++)
        {
            var b = areas[i]!["bounds"]!;
            var (x, y, w, h) = (b["x"]!.GetValue<long>(), b["y"]!.GetValue<long>(), b["width"]!.GetValue<long>(), b["height"]!.GetValue<long>());
            if (x + w > width || y + h > height)
                return vendor.Error(400, "The request body has 1 error(s)", [$"areas[{i}].bounds: the area must lie within the rich menu"]);
        }
        var id = "richmenu-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        Channel(context, state).RichMenus[id] = new SimulatedRichMenu(id, menu, (int)width, (int)height);
        return Results.Json(new { richMenuId = id });
    }

    private static async Task<IResult> Upload(string richMenuId, HttpContext context, LineState state, LineMessagingVendor vendor)
    {
        if (!Channel(context, state).RichMenus.TryGetValue(richMenuId, out var menu)) return vendor.Error(404, "Not found");
        var type = context.Request.ContentType;
        if (type is not ("image/jpeg" or "image/png")) return vendor.Error(415, "The image must be JPEG or PNG");
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        if (buffer.Length > MaxImageBytes) return vendor.Error(413, "The image is larger than 1 MB");
        if (Dimensions(buffer.ToArray(), type) is not { } size || size != (menu.Width, menu.Height))
            return vendor.Error(400, $"The image must be {menu.Width}×{menu.Height} pixels, the size of the rich menu");
        if (menu.ImageType is not null) return vendor.Error(400, "An image has already been uploaded to the richmenu");
        menu.ImageType = type;
        return Results.Json(new { });
    }

    private static IResult SetDefault(string richMenuId, HttpContext context, LineState state, LineMessagingVendor vendor)
    {
        var channel = Channel(context, state);
        if (!channel.RichMenus.TryGetValue(richMenuId, out var menu)) return vendor.Error(404, "Not found");
        if (menu.ImageType is null) return vendor.Error(400, "must upload richmenu image before applying it to user");
        channel.DefaultRichMenuId = richMenuId;
        return Results.Json(new { });
    }

    private static async Task<IResult> Link(HttpContext context, LineState state, LineMessagingVendor vendor)
    {
        var channel = Channel(context, state);
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var richMenuId = body["richMenuId"]!.GetValue<string>();
        if (!channel.RichMenus.TryGetValue(richMenuId, out var menu)) return vendor.Error(400, "richmenu not found");
        if (menu.ImageType is null) return vendor.Error(400, "must upload richmenu image before applying it to user");
        if (UserIds(body) is not { } users) return vendor.Error(400, "The request body has 1 error(s)", ["userIds: between 1 and 500 user IDs are required"]);
        foreach (var user in users)
        {
            channel.UserRichMenus[user] = richMenuId;
            Interlocked.Increment(ref channel.RichMenuUserChanges);
        }
        return Results.Json(new { }, statusCode: 202);
    }

    private static async Task<IResult> Unlink(HttpContext context, LineState state, LineMessagingVendor vendor)
    {
        var channel = Channel(context, state);
        if (UserIds((await JsonNode.ParseAsync(context.Request.Body))!.AsObject()) is not { } users)
            return vendor.Error(400, "The request body has 1 error(s)", ["userIds: between 1 and 500 user IDs are required"]);
        foreach (var user in users)
        {
            channel.UserRichMenus.TryRemove(user, out _);
            Interlocked.Increment(ref channel.RichMenuUserChanges);
        }
        return Results.Json(new { }, statusCode: 202);
    }

    private static List<string>? UserIds(JsonObject body) =>
        body["userIds"] is JsonArray { Count: >= 1 and <= 500 } ids ? ids.Select(i => i!.GetValue<string>()).ToList() : null;

    // Width and height from the PNG header (IHDR) or the JPEG start-of-frame marker.
    private static (int Width, int Height)? Dimensions(byte[] image, string type)
    {
        if (type == "image/png")
            return image.Length >= 24 && image[..8].SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A })
                ? (BinaryPrimitives.ReadInt32BigEndian(image.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(image.AsSpan(20))) : null;
        if (image.Length < 4 || image[0] != 0xFF || image[1] != 0xD8) return null;
        for (var i = 2; i + 9 < image.Length;)
        {
            if (image[i] != 0xFF) return null;
            var marker = image[i + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(image.AsSpan(i + 2));
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                return (BinaryPrimitives.ReadUInt16BigEndian(image.AsSpan(i + 7)), BinaryPrimitives.ReadUInt16BigEndian(image.AsSpan(i + 5)));
            i += 2 + length;
        }
        return null;
    }
}

/// <summary>A rich menu as the simulated LINE keeps it.</summary>
public sealed class SimulatedRichMenu(string id, JsonObject definition, int width, int height)
{
    public string Id { get; } = id;
    public JsonObject Definition { get; } = definition;
    public int Width { get; } = width;
    public int Height { get; } = height;
    public string? ImageType { get; set; }
}
