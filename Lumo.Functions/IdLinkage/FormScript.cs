using System.Text.Json;
using Lumo.Core.IdLinkage;
using Microsoft.Extensions.Options;

namespace Lumo.Functions.IdLinkage;

/// <summary>
/// The script behind the Landing Page Embed Code. It listens to Klaviyo's form events
/// (https://developers.klaviyo.com/en/docs/javascript_api_for_klaviyo_forms: <c>klaviyoForms</c> with
/// <c>type</c>, <c>formId</c>, <c>metaData.$email</c> / <c>$phone_number</c>), keeps the target form's submitted
/// email/phone in memory, and turns the success screen's button (the one pointing at the Success Screen Button URL)
/// into a LINE link button on phones, or a QR code to scan on desktops.
/// </summary>
public static class FormScript
{
    public static async Task<IResult> ServeAsync(string workspaceId, string accountId, IdLinkageSettingsStore settingsStore, IOptions<IdLinkageOptions> options, CancellationToken ct)
    {
        var settings = await settingsStore.GetIfExistsAsync(workspaceId, accountId, ct);
        if (settings?.FormId is null)
            return Results.Content("/* Lumo: Form ID linkage is not set up for this LINE account. */", "text/javascript; charset=utf-8", statusCode: 404);
        var config = JsonSerializer.Serialize(new
        {
            formId = settings.FormId,
            label = settings.FormCtaLabel ?? "Connect LINE",
            buttonUrl = options.Value.Url($"/api/link/{workspaceId}/{accountId}/form").ToString(),
            qrUrl = options.Value.Url($"/api/link/{workspaceId}/{accountId}/form/qr.png").ToString(),
        });
        return Results.Content(Script.Replace("__CONFIG__", config), "text/javascript; charset=utf-8");
    }

    private const string Script = """
        (function () {
          "use strict";
          var cfg = __CONFIG__;
          var signals = {};
          function query() {
            var q = [];
            if (signals.email) q.push("email=" + encodeURIComponent(signals.email));
            if (signals.phone) q.push("phone=" + encodeURIComponent(signals.phone));
            return q.length ? "?" + q.join("&") : "";
          }
          function isPhone() { return /Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent); }
          function upgrade() {
            var links = document.querySelectorAll('a[href^="' + cfg.buttonUrl + '"]');
            Array.prototype.forEach.call(links, function (a) {
              if (a.getAttribute("data-lumo") === "done") return;
              a.setAttribute("data-lumo", "done");
              if (isPhone()) {
                a.href = cfg.buttonUrl + query();
                a.textContent = cfg.label;
                a.setAttribute("referrerpolicy", "no-referrer");
              } else {
                var img = document.createElement("img");
                img.src = cfg.qrUrl + query();
                img.alt = cfg.label;
                img.width = 200; img.height = 200;
                img.referrerPolicy = "no-referrer";
                var caption = document.createElement("p");
                caption.textContent = cfg.label + ": scan with your phone's camera";
                var box = document.createElement("div");
                box.style.textAlign = "center";
                box.appendChild(img); box.appendChild(caption);
                a.parentNode.replaceChild(box, a);
              }
            });
          }
          window.addEventListener("klaviyoForms", function (e) {
            var d = e.detail || {};
            if (String(d.formId) !== String(cfg.formId)) return;
            if (d.type === "submit" || d.type === "stepSubmit") {
              var m = d.metaData || {};
              if (m.$email) signals.email = m.$email;
              if (m.$phone_number) signals.phone = m.$phone_number;
              // The success screen renders after the event; look for its button a few times.
              [100, 400, 1000, 2500].forEach(function (ms) { setTimeout(upgrade, ms); });
            }
          });
        })();
        """;
}
