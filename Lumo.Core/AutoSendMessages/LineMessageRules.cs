using System.Text;
using System.Text.Json.Nodes;
using Lumo.Core.ProductCards;

namespace Lumo.Core.AutoSendMessages;

/// <summary>
/// LINE's limits for the message objects Lumo sends (https://developers.line.biz/en/reference/messaging-api/#message-objects,
/// DESIGN §5): at most 5 messages; text ≤ 5,000 characters; image URLs HTTPS and JPEG/PNG; flex altText ≤ 1,500,
/// a carousel ≤ 12 bubbles and ≤ 50 KB, a bubble ≤ 30 KB; URI actions ≤ 1,000 characters with http, https, line or
/// tel. Checked when a message is saved and again after variables are filled in.
/// </summary>
public static class LineMessageRules
{
    public const int MaxMessages = 5;
    public const int MaxTextLength = 5_000;
    public const int MaxAltTextLength = 1_500;
    public const int MaxCarouselBubbles = 12;
    public const int MaxBubbleBytes = 30 * 1024;
    public const int MaxCarouselBytes = 50 * 1024;
    public const int MaxUriLength = 1_000;
    private static readonly string[] UriSchemes = ["http", "https", "line", "tel"];

    public static Dictionary<string, string[]> Validate(JsonArray? messages, string path = "messages")
    {
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string message) => errors[field] = [.. errors.GetValueOrDefault(field) ?? [], message];

        // A product card goes out as two LINE messages: its text and its carousel.
        if (messages is null || messages.Count == 0 || messages.Sum(m => ProductCard.IsCard(m) ? 2 : 1) > MaxMessages)
        {
            Add(path, $"Between 1 and {MaxMessages} LINE messages are required (a product card counts as two).");
            return errors;
        }
        var templates = new HashSet<TriggerTemplate>();
        for (var i = 0; i < messages.Count; i++)
        {
            var at = $"{path}[{i}]";
            if (messages[i] is not JsonObject message) { Add(at, "A LINE message is a JSON object."); continue; }
            switch (message["type"]?.GetValue<string>())
            {
                case "text":
                    if (message["text"]?.GetValue<string>() is not { Length: > 0 } text) Add($"{at}.text", "The text is required.");
                    else if (text.Length > MaxTextLength) Add($"{at}.text", $"LINE text messages have at most {MaxTextLength} characters; this one has {text.Length}.");
                    break;
                case "image":
                    foreach (var field in new[] { "originalContentUrl", "previewImageUrl" })
                        if (!IsImageUrl(message[field]?.GetValue<string>()))
                            Add($"{at}.{field}", "An HTTPS URL of a JPEG or PNG image (at most 2,000 characters) is required.");
                    break;
                case "flex":
                    if (message["altText"]?.GetValue<string>() is not { Length: > 0 } alt || alt.Length > MaxAltTextLength)
                        Add($"{at}.altText", $"The alternative text is required and has at most {MaxAltTextLength} characters.");
                    CheckFlex(message["contents"], $"{at}.contents", Add);
                    break;
                case ProductCard.MessageType:
                    if (ProductCard.Parse(message, at, errors) is { Template: { } template }) templates.Add(template);
                    break;
                case "sticker":
                    if (message["packageId"] is null || message["stickerId"] is null) Add(at, "A sticker needs packageId and stickerId.");
                    break;
                default:
                    Add($"{at}.type", "Supported message types are text, image, flex, sticker and products (a product card).");
                    break;
            }
            foreach (var uri in UrisIn(message))
                if (uri.Length > MaxUriLength || !Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !UriSchemes.Contains(parsed.Scheme))
                    Add($"{at}", $"URI actions use http, https, line or tel and have at most {MaxUriLength} characters: '{(uri.Length > 80 ? uri[..80] + "…" : uri)}'.");
        }
        // One Flow trigger fills every card of a message, so they must expect the same trigger.
        if (templates.Count > 1)
            Add(path, "All product cards of one message use the same trigger template.");
        return errors;
    }

    private static void CheckFlex(JsonNode? contents, string at, Action<string, string> add)
    {
        var size = Encoding.UTF8.GetByteCount(contents?.ToJsonString() ?? "");
        switch (contents?["type"]?.GetValue<string>())
        {
            case "bubble":
                if (size > MaxBubbleBytes) add(at, $"A flex bubble is at most 30 KB; this one is {size / 1024} KB.");
                break;
            case "carousel":
                var bubbles = contents["contents"] as JsonArray;
                if (bubbles is null || bubbles.Count is 0 or > MaxCarouselBubbles) add(at, $"A carousel has 1 to {MaxCarouselBubbles} bubbles.");
                else if (bubbles.Any(b => Encoding.UTF8.GetByteCount(b!.ToJsonString()) > MaxBubbleBytes)) add(at, "A flex bubble is at most 30 KB.");
                if (size > MaxCarouselBytes) add(at, $"A flex carousel is at most 50 KB; this one is {size / 1024} KB.");
                break;
            default:
                add(at, "Flex contents are a bubble or a carousel.");
                break;
        }
    }

    private static bool IsImageUrl(string? url) =>
        url is { Length: > 0 and <= 2000 } && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == "https"
        && (uri.AbsolutePath.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || uri.AbsolutePath.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase)
            || uri.AbsolutePath.EndsWith(".png", StringComparison.OrdinalIgnoreCase));

    // Every "uri" of an action, wherever it sits in the message.
    private static IEnumerable<string> UrisIn(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => p.Key is "uri" or "linkUri" && p.Value is JsonValue v && v.TryGetValue<string>(out var s) ? [s] : UrisIn(p.Value)),
        JsonArray array => array.SelectMany(UrisIn),
        _ => [],
    };
}
