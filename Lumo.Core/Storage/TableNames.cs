namespace Lumo.Core.Storage;

/// <summary>Logical table names; <see cref="LumoTables"/> adds the configured prefix.</summary>
public static class TableNames
{
    public const string Workspaces = "Workspaces";
    public const string DevelopmentSecrets = "DevSecrets";
    public const string OperationsStatus = "OperationsStatus";
    public const string LineFriends = "LineFriends";
    public const string LineEventLog = "LineEventLog";
    public const string KlaviyoEventOutbox = "KlaviyoEventOutbox";
    public const string KlaviyoEventsParked = "KlaviyoEventsParked";
    public const string KlaviyoImportJobs = "KlaviyoImportJobs";
    public const string Leases = "Leases";
    public const string LineSends = "LineSends";
    public const string AutoSendMessages = "AutoSendMessages";
    public const string IdLinkageSettings = "IdLinkageSettings";
    public const string LinkQrCodes = "LinkQrCodes";
    public const string LinkSessions = "LinkSessions";
    public const string FormLinkArms = "FormLinkArms";
    public const string LinkImportRuns = "LinkImportRuns";
    public const string ErasureLog = "ErasureLog";
    public const string Segments = "Segments";
    public const string Broadcasts = "Broadcasts";
    public const string BroadcastChunks = "BroadcastChunks";
    public const string RichMenus = "RichMenus";
    public const string RichMenuLinks = "RichMenuLinks";
    public const string SyncRuns = "SyncRuns";
    public const string LineFollowers = "LineFollowers";
    public const string OAuthStates = "OAuthStates";
    public const string ShopifyStores = "ShopifyStores";
    public const string ShopifyProducts = "ShopifyProducts";
    public const string ShopifyFeeds = "ShopifyFeeds";
}
