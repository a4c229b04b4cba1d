using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace Lumo.Core.RichMenus;

/// <summary>A rich menu as the admin describes it: the image comes base64-encoded beside the definition.</summary>
public sealed record RichMenuDraft(string? Name, string? ChatBarText, int? Width, int? Height, JsonArray? Areas, string? Image, string? SegmentId, int? Priority);

/// <summary>
/// LINE's rules for rich menus (https://developers.line.biz/en/reference/messaging-api/#rich-menu-object,
/// …/#upload-rich-menu-image), checked before anything is created on LINE, each problem under the field it is about.
/// </summary>
public static class RichMenuRules
{
    public const int MaxImageBytes = 1024 * 1024;
    public const int MaxAreas = 20;
    private static readonly string[] ActionTypes = ["uri", "message", "postback", "datetimepicker", "richmenuswitch"];

    /// <summary>The image bytes and content type when everything is valid; otherwise the problems by field.</summary>
    public static (byte[]? Image, string? ContentType) Validate(RichMenuDraft draft, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(draft.Name) || draft.Name.Length > 300) errors["name"] = ["Give the rich menu a name of 1 to 300 characters (not shown to users)."];
        if (string.IsNullOrWhiteSpace(draft.ChatBarText) || draft.ChatBarText.Length > 14) errors["chatBarText"] = ["The chat bar text has 1 to 14 characters."];
        var (width, height) = (draft.Width ?? 0, draft.Height ?? 0);
        if (width is < 800 or > 2500 || height < 250 || width < 1.45 * height)
            errors["size"] = ["A rich menu is 800 to 2,500 pixels wide, at least 250 high, and at least 1.45 times as wide as high (e.g. 2500×1686 or 2500×843)."];
        CheckPriority(draft.Priority, errors);
        ValidateAreas(draft.Areas, width, height, errors);

        byte[]? image = null;
        if (draft.Image is { Length: > (MaxImageBytes + 2) / 3 * 4 + 4 })
        {
            errors["image"] = ["The image is larger than 1 MB, the most LINE takes."];
            return (null, null);
        }
        try { image = draft.Image is null ? null : Convert.FromBase64String(draft.Image); }
        catch (FormatException) { }
        if (image is null || image.Length == 0) { errors["image"] = ["Attach the image as base64 (JPEG or PNG)."]; return (null, null); }
        if (image.Length > MaxImageBytes) { errors["image"] = [$"The image has {image.Length:N0} bytes; LINE takes at most 1 MB."]; return (null, null); }
        var (type, size) = Inspect(image);
        if (type is null) { errors["image"] = ["The image is neither JPEG nor PNG."]; return (null, null); }
        if (size != (width, height) && !errors.ContainsKey("size"))
            errors["image"] = [$"The image is {size?.Width}×{size?.Height} pixels; it must be exactly the rich menu's size, {width}×{height}."];
        return errors.Count == 0 ? (image, type) : (null, null);
    }

    private static void ValidateAreas(JsonArray? areas, int width, int height, Dictionary<string, string[]> errors)
    {
        if (areas is not { Count: >= 1 and <= MaxAreas })
        {
            errors["areas"] = [$"A rich menu has 1 to {MaxAreas} tappable areas."];
            return;
        }
        for (var i = 0; i < areas.Count; i++)
        {
            var area = areas[i] as JsonObject;
            var bounds = area?["bounds"] as JsonObject;
            int? Read(string name) => bounds?[name] is JsonValue v && v.TryGetValue<int>(out var n) ? n : null;
            if (Read("x") is not { } x || Read("y") is not { } y || Read("width") is not { } w || Read("height") is not { } h || x < 0 || y < 0 || w < 1 || h < 1)
                errors[$"areas[{i}].bounds"] = ["Bounds are x, y (0 or more), width and height (1 or more) in pixels."];
            else if (x + w > width || y + h > height)
                errors[$"areas[{i}].bounds"] = [$"The area ({x},{y}) {w}×{h} reaches outside the {width}×{height} menu."];
            var action = area?["action"] as JsonObject;
            var type = action?["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
            if (type is null || !ActionTypes.Contains(type))
                errors[$"areas[{i}].action"] = [$"The action's type is one of {string.Join(", ", ActionTypes)}."];
            else if (ActionProblem(type, action!) is { } problem)
                errors[$"areas[{i}].action"] = [problem];
        }
    }

    private static string? ActionProblem(string type, JsonObject action)
    {
        string? Text(string name) => action[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return type switch
        {
            "uri" when Text("uri") is not { Length: > 0 and <= 1000 } uri || !(uri.StartsWith("https://") || uri.StartsWith("http://") || uri.StartsWith("line://") || uri.StartsWith("tel:"))
                => "A uri action needs a uri of at most 1,000 characters (http, https, line or tel).",
            "message" when Text("text") is not { Length: > 0 and <= 300 } => "A message action needs a text of 1 to 300 characters.",
            "postback" when Text("data") is not { Length: > 0 and <= 300 } => "A postback action needs data of 1 to 300 characters.",
            _ => null,
        };
    }

    /// <summary>The image's type and pixel size, from the PNG header (IHDR) or the JPEG start-of-frame marker.</summary>
    /// <summary>The priority decides between menus whose segments a friend is in both of: 1 wins.</summary>
    public static void CheckPriority(int? priority, Dictionary<string, string[]> errors)
    {
        if (priority is < 1 or > 1000) errors["priority"] = ["The priority is 1 (wins) to 1,000."];
    }

    public static (string? ContentType, (int Width, int Height)? Size) Inspect(byte[] image)
    {
        ReadOnlySpan<byte> png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (image.Length >= 24 && image.AsSpan(0, 8).SequenceEqual(png))
            return ("image/png", (BinaryPrimitives.ReadInt32BigEndian(image.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(image.AsSpan(20))));
        if (image.Length < 4 || image[0] != 0xFF || image[1] != 0xD8) return (null, null);
        for (var i = 2; i + 9 < image.Length;)
        {
            if (image[i] != 0xFF) break;
            var marker = image[i + 1];
            // SOF0–SOF15 carry the frame size; C4 (Huffman), C8 (reserved) and CC (arithmetic coding) do not.
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                return ("image/jpeg", (BinaryPrimitives.ReadUInt16BigEndian(image.AsSpan(i + 7)), BinaryPrimitives.ReadUInt16BigEndian(image.AsSpan(i + 5))));
            i += 2 + BinaryPrimitives.ReadUInt16BigEndian(image.AsSpan(i + 2));
        }
        return ("image/jpeg", null);
    }
}
