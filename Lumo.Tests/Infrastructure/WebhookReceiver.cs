using System.Net;

namespace Lumo.Tests.Infrastructure;

/// <summary>A one-shot HTTP listener on loopback that captures the raw body and LINE signature of one request.</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();

    public WebhookReceiver()
    {
        var port = FreePort();
        Url = $"http://127.0.0.1:{port}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(async () =>
        {
            var context = await _listener.GetContextAsync();
            using var buffer = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(buffer);
            Received.TrySetResult((buffer.ToArray(), context.Request.Headers["x-line-signature"] ?? ""));
            context.Response.StatusCode = 200;
            context.Response.Close();
        });
    }

    public string Url { get; }
    public TaskCompletionSource<(byte[] Body, string Signature)> Received { get; } = new();

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose() => _listener.Close();
}
