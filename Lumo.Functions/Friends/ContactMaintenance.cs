using Lumo.Core.Friends;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.Friends;

/// <summary>
/// The phone-number migration (<see cref="ContactRenormalisation"/>): run once when the app starts for the first time
/// after the upgrade, and on request with <c>POST /api/manage/maintenance/migrate-contact-details</c>.
/// </summary>
public static class ContactMaintenance
{
    public static IServiceCollection AddContactMaintenance(this IServiceCollection services) => services.AddHostedService<RunOnceAtStart>();

    public static RouteGroupBuilder MapContactMaintenanceEndpoints(this RouteGroupBuilder manage)
    {
        manage.MapPost("/maintenance/migrate-contact-details", Renormalise).WithTags("Maintenance");
        return manage;
    }

    public static async Task<Ok<RenormalisationResult>> Renormalise(ContactRenormalisation migration, CancellationToken ct) =>
        TypedResults.Ok(await migration.RunAsync(ct));

    private sealed class RunOnceAtStart(ContactRenormalisation migration, ILogger<RunOnceAtStart> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken); // after start-up, off the readiness path
                if (await migration.LastRunIfAnyAsync(stoppingToken) is null) await migration.RunAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                // Not fatal: the old values keep working for what they matched before; an administrator can run it again.
                logger.LogError(e, "The phone-number migration failed; run POST /api/manage/maintenance/migrate-contact-details");
            }
        }
    }
}
