using System.Text.Json.Nodes;
using Lumo.Core.Connections;
using Lumo.Core.Friends;
using Lumo.Core.Klaviyo;
using Lumo.Core.KlaviyoEvents;
using Lumo.Core.LineLogin;
using Lumo.Core.Secrets;
using Lumo.Core.Workspaces;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lumo.Core.IdLinkage;

/// <summary>Where a linking URL came from, and the signals and linking token it carried (raw, as the browser sent them).</summary>
public sealed record LinkStart(string WorkspaceId, string AccountId, string Method, string? QrCodeId, string? Email, string? Phone, string? Token = null);

/// <summary>
/// What the customer sees: a redirect to LINE Login, or a result page (Status 200 on success). A redirect carries the
/// attempt's state in <c>BindToBrowser</c>, to be bound to the browser with a cookie.
/// </summary>
public sealed record LinkOutcomePage(int Status, string Title, string Message, Uri? RedirectTo = null, string? AddFriendUrl = null, string? BindToBrowser = null)
{
    public static LinkOutcomePage Redirect(Uri to, string state) => new(302, "", "", to, BindToBrowser: state);
}

/// <summary>
/// The LINE Login linking flow shared by QR codes and forms. The landing resolves the Klaviyo profile from the
/// signals, checks that the URL was made for that profile (its <see cref="LinkingTokens">linking token</see>), stores
/// a short-lived session and sends the browser to LINE Login (state, nonce, PKCE, bot_prompt=aggressive); the
/// callback takes the session once, exchanges the code, has LINE verify the ID token for our channel and nonce, and
/// links its <c>sub</c> to the session's profile. A landing whose signals match no profile, or whose token is wrong
/// or missing where one is required, gets the very same redirect with nothing stored, so an outsider learns nothing
/// about who is a customer; its callback links nothing. Every refusal is a page that says what happened.
/// </summary>
public sealed class LinkingFlow(WorkspaceStore workspaces, IdLinkageSettingsStore settingsStore, LinkQrCodeStore qrCodes, LinkSessionStore sessions,
    FormLinkArms arms, KlaviyoProfileResolver resolver, LinkingTokens tokens, KlaviyoConnectionHealth health, LineFriendLookup friendLookup,
    LineLoginClient lineLogin, ISecretStore secrets, IdLinking linking, KlaviyoEventRecorder events, IOptions<IdLinkageOptions> options, TimeProvider clock,
    ILogger<LinkingFlow> logger)
{
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromMinutes(10);

    public async Task<LinkOutcomePage> StartAsync(LinkStart start, Uri callbackUri, CancellationToken cancellationToken)
    {
        var account = await workspaces.GetAccountIfExistsAsync(start.WorkspaceId, start.AccountId, cancellationToken);
        var settings = account is null ? null : await settingsStore.GetIfExistsAsync(start.WorkspaceId, start.AccountId, cancellationToken);
        if (account is null) return Problem(404, "Link not found", "This link does not belong to any LINE account.");
        if (settings?.LoginChannelId is null) return Problem(404, "Linking is not available", "This shop has not finished setting up LINE linking yet.");

        LinkQrCode? code = null;
        if (start.QrCodeId is not null && (code = await qrCodes.GetIfExistsAsync(start.WorkspaceId, start.AccountId, start.QrCodeId, cancellationToken)) is null)
            return Problem(404, "QR code not found", "This QR code is no longer in use.");
        if (start.Method != LinkMethods.QrCode && settings.FormId is null)
            return Problem(404, "Linking is not available", "This shop does not link LINE from its sign-up form.");

        // An unencoded "+" in a query string arrives as a space: "+81..." reads " 81...".
        var rawPhone = start.Phone is [' ', >= '1' and <= '9', ..] ? "+" + start.Phone[1..] : start.Phone;
        var (emailGiven, phoneGiven) = (!string.IsNullOrWhiteSpace(start.Email), !string.IsNullOrWhiteSpace(rawPhone));
        var email = emailGiven ? ContactDetails.NormaliseEmail(start.Email, out _) : null;
        // The workspace is read only for a phone number: its region says how a national number is meant.
        var phone = phoneGiven
            ? ContactDetails.NormalisePhone(rawPhone, (await workspaces.GetWorkspaceIfExistsAsync(start.WorkspaceId, cancellationToken))?.DefaultRegion, out _)
            : null;
        var unreadable = (emailGiven && email is null) || (phoneGiven && phone is null);
        var missing = code is null ? email is null && phone is null : (code.UsesEmail && email is null) || (code.UsesPhone && phone is null);
        if (unreadable || missing)
            return Problem(400, "This link is incomplete", "Open the link from the message or form you received, without changing it.");
        // A QR code uses exactly the signals it was made with.
        if (code is not null) (email, phone) = (code.UsesEmail ? email : null, code.UsesPhone ? phone : null);

        var method = start.Method == LinkMethods.Form && settings.FormFlowControlled ? LinkMethods.FlowControlledForm : start.Method;
        string? profileId;
        DateTimeOffset? profileCreated = null;
        string[] armRowKeys = [];
        if (method == LinkMethods.FlowControlledForm)
        {
            // No arm (not confirmed yet, used up, or no such sign-up) is answered like every other landing that
            // cannot link, so the answer does not tell who has just signed up.
            (profileId, armRowKeys) = await arms.FindArmedProfileAsync(start.WorkspaceId, start.AccountId, email, phone, cancellationToken);
        }
        else
        {
            ProfileMatch match;
            try
            {
                match = await resolver.ResolveAsync(start.WorkspaceId, email, phone, cancellationToken);
            }
            catch (KlaviyoApiException e) when (e.IsAuthenticationFailure)
            {
                await health.PauseIfRefusedAsync(start.WorkspaceId, "linking look-up", e, cancellationToken);
                return Problem(503, "Linking is paused", "The shop's connection is being renewed. Please try again later.");
            }
            (profileId, profileCreated) = (match.ProfileId, match.ProfileCreated);
        }
        if (profileId is null || !await ProvesRecipientAsync(start, method, code, profileId, profileCreated, settings.LinkingTokenVersion, cancellationToken))
        {
            logger.LogInformation("A {Method} landing for account {AccountId} did not prove its recipient (no matching profile, or no valid linking token)", method, start.AccountId);
            return LooksLikeALanding(settings.LoginChannelId, callbackUri);
        }

        var session = new LinkSession
        {
            Id = LinkSession.NewSecret(), WorkspaceId = start.WorkspaceId, AccountId = start.AccountId, Method = method, ProfileId = profileId,
            QrCodeId = code?.Id, Nonce = LinkSession.NewSecret(), CodeVerifier = LinkSession.NewSecret(), ExpiresAt = clock.GetUtcNow() + SessionLifetime,
            ArmRowKeys = armRowKeys,
        };
        await sessions.SaveAsync(session, cancellationToken);
        if (code is not null)
        {
            // One scan per code, profile and 10-minute window: a reload, a second tap or a mail scanner's prefetch of
            // the same link is the same scan (Klaviyo keeps the first event with this unique_id).
            var now = clock.GetUtcNow();
            var window = now.ToUnixTimeSeconds() / (long)SessionLifetime.TotalSeconds;
            await events.RecordAsync(new KlaviyoEvent(start.WorkspaceId, profileId, KlaviyoMetrics.ScannedLineQrCode, $"qr-scan:{code.Id}:{window}", now,
                new JsonObject { ["QR Code"] = code.Name, ["QR Code ID"] = code.Id, ["LINE Account"] = account.Name, ["LINE Account Number"] = account.Ordinal }), cancellationToken);
        }
        return LinkOutcomePage.Redirect(lineLogin.AuthorizeUrl(settings.LoginChannelId, callbackUri, session.Id, session.Nonce, session.CodeVerifier), session.Id);
    }

    /// <summary>The LINE Login callback; <c>startedInThisBrowser</c> tells whether the browser carries the cookie its landing set for this state.</summary>
    public async Task<LinkOutcomePage> CompleteAsync(string? state, string? code, string? error, bool startedInThisBrowser, Uri callbackUri, CancellationToken cancellationToken)
    {
        // A state carried to another browser (a forwarded or intercepted link) is refused before it is used up, so
        // the person who started can still finish.
        if (!string.IsNullOrEmpty(state) && !startedInThisBrowser)
            return Problem(400, "Please finish in the same browser",
                "Connecting LINE has to be finished in the browser where it was started. Open the link or scan the code again on this device.");
        // Until LINE has confirmed who logged in, every refusal reads the same whether or not an attempt stands behind
        // the state, so that poking the callback with a landing's state tells nothing about who is a customer.
        if (error is not null)
            return Problem(400, "LINE login was cancelled", "Nothing was linked. Scan the code or open the link again to try once more.");
        var session = string.IsNullOrEmpty(state) ? null : await sessions.TakeAsync(state, cancellationToken);
        // No attempt behind the state: expired, used already, or a landing that did not prove its recipient.
        if (session is null || session.ExpiresAt < clock.GetUtcNow() || string.IsNullOrEmpty(code)) return NothingLinked();
        var account = await workspaces.GetAccountIfExistsAsync(session.WorkspaceId, session.AccountId, cancellationToken);
        var settings = await settingsStore.GetIfExistsAsync(session.WorkspaceId, session.AccountId, cancellationToken);
        var secret = await secrets.GetIfExistsAsync(SecretNames.LoginChannelSecret(session.WorkspaceId, session.AccountId), cancellationToken);
        if (account is null || settings?.LoginChannelId is null || secret is null)
            return Problem(404, "Linking is not available", "This shop has not finished setting up LINE linking yet.");

        LineIdToken token;
        try
        {
            var idToken = await lineLogin.ExchangeCodeAsync(settings.LoginChannelId, secret, code, callbackUri, session.CodeVerifier, cancellationToken);
            token = await lineLogin.VerifyIdTokenAsync(idToken, settings.LoginChannelId, session.Nonce, cancellationToken);
        }
        catch (LineLoginException e) when (!e.IsTransient)
        {
            logger.LogWarning("LINE Login refused a linking callback for account {AccountId}: {Status} {Code} {Message}", session.AccountId, e.Status, e.Code, e.Message);
            return NothingLinked();
        }
        catch (LineLoginException e)
        {
            logger.LogError("LINE Login did not answer a linking callback for account {AccountId}: {Status} {Message}", session.AccountId, e.Status, e.Message);
            return Problem(503, "LINE is not answering", "Nothing was linked. Please try again in a few minutes.");
        }

        // Often a friend already (or just now, through bot_prompt), before any follow webhook reached us: ask LINE, so
        // the profile gets a real LINE Follow Status.
        await friendLookup.FindAsync(account, token.UserId, cancellationToken);
        var result = await linking.LinkAsync(account, token.UserId, session.ProfileId, session.Method, token.DisplayName, cancellationToken);
        if (result.IsLinked && session.ArmRowKeys.Length > 0)
            await arms.DisarmRowsAsync(session.WorkspaceId, session.AccountId, session.ArmRowKeys, cancellationToken); // an arm links once
        var addFriend = account.BasicId is { } basicId ? $"https://line.me/R/ti/p/{Uri.EscapeDataString(basicId)}" : null;
        return result.IsLinked
            ? new LinkOutcomePage(200, "You're connected", $"Your LINE account is now connected with {account.BotDisplayName ?? account.Name}. You can close this page.", AddFriendUrl: addFriend)
            : Problem(409, "Already connected to someone else", "This LINE account or this sign-up is already connected to another person. Please contact the shop.");
    }

    // A token that is there must be the profile's own. Without one: a QR code made before linking tokens accepts the
    // URL until it is switched; a sign-up form's URL links only the sign-up that just happened (a profile Klaviyo
    // created within the window), never an existing customer; a Flow-controlled form's arm, set by the merchant's
    // Flow for this very profile, is its proof.
    private async ValueTask<bool> ProvesRecipientAsync(LinkStart start, string method, LinkQrCode? code, string profileId, DateTimeOffset? profileCreated,
        int tokenVersion, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(start.Token))
            return await tokens.IsValidAsync(start.WorkspaceId, start.AccountId, profileId, tokenVersion, start.Token, cancellationToken);
        return method switch
        {
            LinkMethods.QrCode => code is not { SignedUrlsOnly: true },
            LinkMethods.Form => profileCreated >= clock.GetUtcNow() - options.Value.FormSignUpWindow,
            LinkMethods.FlowControlledForm => true,
            _ => false,
        };
    }

    // The redirect a real landing gives (fresh state, nonce and PKCE challenge, the state bound to the browser), with
    // no session behind it.
    private LinkOutcomePage LooksLikeALanding(string loginChannelId, Uri callbackUri)
    {
        var state = LinkSession.NewSecret();
        return LinkOutcomePage.Redirect(lineLogin.AuthorizeUrl(loginChannelId, callbackUri, state, LinkSession.NewSecret(), LinkSession.NewSecret()), state);
    }

    private static LinkOutcomePage NothingLinked() => Problem(400, "We could not connect your LINE account",
        "Nothing was linked. A linking link works only from the message it was sent in, once, and for 10 minutes; after a sign-up, only once you have confirmed it. Open the link from your latest message or scan the code again.");

    private static LinkOutcomePage Problem(int status, string title, string message) => new(status, title, message);
}
