using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Hosting;

/// <summary>
/// Bodies of anonymous endpoints are read by hand, after the caller proved who they are, and only up to a limit:
/// nobody without the key makes us buffer or parse megabytes.
/// </summary>
public static class LimitedBody
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The raw bytes (a signature covers exactly these), or null when the body is over <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>The body as <typeparamref name="T"/>: the value, or the 413/400 problem to answer instead.</summary>
    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadJsonAsync<T>(HttpRequest request, int maxBytes, CancellationToken ct) where T : class
    {
        var body = await ReadAsync(request, maxBytes, ct);
        if (body is null) return (null, TooLarge(maxBytes));
        try
        {
            return JsonSerializer.Deserialize<T>(body, Json) is { } value
                ? (value, null)
                : (null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid", detail: "The body is empty."));
        }
        catch (JsonException e)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid", detail: $"The body is not valid JSON: {e.Message}"));
        }
    }

    public static ProblemHttpResult TooLarge(int maxBytes) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large", detail: $"The body is at most {maxBytes} bytes here.");
}
