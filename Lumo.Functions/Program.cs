using Lumo.Core;
using Lumo.Functions.Admin;
using Lumo.Functions.Connections;
using Lumo.Functions.FlowSends;
using Lumo.Functions.Friends;
using Lumo.Functions.KlaviyoEvents;
using Lumo.Functions.LineWebhooks;
using Lumo.Functions.Hosting;
using Lumo.Functions.IdLinkage;
using Lumo.Functions.Operations;
using Lumo.Functions.Retention;
using Lumo.Functions.Telemetry;

var builder = WebApplication.CreateBuilder(args);
builder.AddCustomHandlerHosting();
builder.AddLumoTelemetry();
builder.Services.AddLumoCore();
builder.Services.AddManageApi(HostingMode.From(builder.Configuration));
builder.Services.AddIdLinkingEndpoints();
builder.Services.AddLumoForwardedHeaders(builder.Configuration);
builder.Services.AddContactMaintenance();

var app = builder.Build();
app.UseForwardedHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRateLimiter();
app.UseRouteIdValidation();
app.MapCustomHandlerProtocol();
app.MapHealthEndpoint();
app.MapManageApi();
app.MapVerifyConnectionsFunction();
app.MapHeartbeatFunction();
app.MapLineWebhook();
app.MapProcessLineEventsFunction();
app.MapKlaviyoEventFunctions();
app.MapSyncKlaviyoProfilesFunction();
app.MapFlowSend();
app.MapSendLineMessageFunction();
app.MapIdLinking();
app.MapFormLinkageCallback();
app.MapImportLineUserIdsFunctions();
app.MapLinkingTokenFunctions();
app.MapRetentionSweepFunction();
app.MapPendingSendSweepFunction();
app.Run();

/// <summary>Entry point; public so that tests can host the real pipeline with WebApplicationFactory.</summary>
public partial class Program;
