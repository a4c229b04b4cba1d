using Lumo.Functions.Hosting.Standalone;

namespace Lumo.Functions.Hosting;

public static class CustomHandlerHosting
{
    /// <summary>
    /// Binds Kestrel where the Functions host expects us (loopback, <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>), or — with no
    /// host present — reads local.settings.json, listens on the configured local URL and starts the standalone trigger runner.
    /// </summary>
    public static WebApplicationBuilder AddCustomHandlerHosting(this WebApplicationBuilder builder)
    {
        var mode = HostingMode.From(builder.Configuration);
        builder.Services.AddSingleton(mode);
        builder.Services.AddSingleton(_ => FunctionManifest.FromAppBase());
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();

        if (mode.IsUnderFunctionsHost)
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{mode.CustomHandlerPort}");
            return builder;
        }

        builder.Configuration.AddLocalSettings(Directory.GetCurrentDirectory());
        // Loopback unless told otherwise: trigger endpoints (POST /{FunctionName}) are for this process's own runner.
        builder.WebHost.UseUrls(StandaloneBinding.UrlsOf(builder.Configuration));
        builder.Services.AddStandaloneTriggerRunner();
        return builder;
    }
}
