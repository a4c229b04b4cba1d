using Azure.Monitor.OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Lumo.Functions.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>
    /// Traces, metrics and logs through OpenTelemetry: to Application Insights when
    /// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (managed-identity auth in Azure), to the console when
    /// <c>Lumo:Telemetry:Console</c> is true. Request URLs are recorded without query strings, which can carry keys.
    /// </summary>
    public static WebApplicationBuilder AddLumoTelemetry(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        var console = builder.Configuration.GetValue("Lumo:Telemetry:Console", false);
        if (string.IsNullOrEmpty(connectionString) && !console) return builder;

        var otel = builder.Services.AddOpenTelemetry()
            .WithTracing(t => t.AddAspNetCoreInstrumentation(o => o.RecordException = true).AddHttpClientInstrumentation())
            .WithMetrics(m => m.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddMeter(Lumo.Core.Storage.StorageRequestMetrics.MeterName));
        builder.Logging.AddOpenTelemetry(o => o.IncludeFormattedMessage = true);

        if (!string.IsNullOrEmpty(connectionString))
        {
            // Application Insights with local auth off takes Entra ID tokens only.
            var credential = Lumo.Core.AzureCredentials.Create(builder.Configuration["AZURE_CLIENT_ID"]);
            otel.WithTracing(t => t.AddAzureMonitorTraceExporter(o => { o.ConnectionString = connectionString; o.Credential = credential; }))
                .WithMetrics(m => m.AddAzureMonitorMetricExporter(o => { o.ConnectionString = connectionString; o.Credential = credential; }));
            builder.Logging.AddOpenTelemetry(o => o.AddAzureMonitorLogExporter(e => { e.ConnectionString = connectionString; e.Credential = credential; }));
        }
        if (console)
        {
            otel.WithTracing(t => t.AddConsoleExporter()).WithMetrics(m => m.AddConsoleExporter());
        }
        return builder;
    }
}
