// The admin page's only script: sign-in (the key goes in a header, once), copy buttons and confirmation dialogs.
// Loaded from our own origin; the Content-Security-Policy allows no inline script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const signIn = document.getElementById("sign-in");
  if (signIn) {
    signIn.addEventListener("submit", async (event) => {
      event.preventDefault();
      const field = document.getElementById("f-key"); // no name: a form post without this script carries no key
      const error = document.getElementById("f-key-error");
      const show = (text) => {
        error.textContent = text;
        error.hidden = false;
        field.setAttribute("aria-invalid", "true");
        field.closest(".field").classList.add("invalid");
        field.focus();
      };
      try {
        const response = await fetch(signIn.dataset.sessionUrl, {
          method: "POST", credentials: "same-origin", headers: { "x-functions-key": field.value },
        });
        field.value = "";
        if (response.ok) { window.location.assign(signIn.dataset.returnUrl); return; }
        show(response.status === 401 || response.status === 403 ? signIn.dataset.wrongKey : signIn.dataset.failed);
      } catch {
        show(signIn.dataset.failed);
      }
    });
  }

  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(button.dataset.copy);
      const label = button.textContent;
      button.textContent = "✓";
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }

  // A button with data-dialog opens the <dialog> it names; the dialog holds the real form and a cancel button.
  for (const opener of document.querySelectorAll("button[data-dialog]")) {
    const dialog = document.getElementById(opener.dataset.dialog);
    opener.addEventListener("click", () => dialog.showModal());
    for (const cancel of dialog.querySelectorAll("button[data-close]")) cancel.addEventListener("click", () => dialog.close());
  }
});
