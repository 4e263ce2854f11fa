// On every collector page: install the service worker, keep the ticket stock full, send the
// outbox (when the app opens, when the network returns, when the phone wakes, every few seconds
// while something waits, and on "Send now"), and say honestly how that goes.
// WebKit has no Background Sync: nothing here relies on it.
(() => {
  "use strict";
  const TICK_MS = 5000;
  const WORKER_WAIT_MS = 5000;
  const $ = (id) => document.getElementById(id);
  const pill = $("sync-status");
  const sendNowButton = $("send-now-header");
  const standalone = window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
  let progress = null; // share of the current upload, while one runs here

  // The pill's words: sending / waiting (n) / no network / stuck, and "All sent" only when the
  // phone holds nothing at all.
  function describe(s) {
    if (s.flagged) return { state: "flagged", text: `${s.flagged} stuck · ${s.problem}` };
    if (s.sending) {
      const share = progress === null ? "" : ` ${Math.round(progress * 100)} %`;
      return { state: "sending", text: `Sending${share} · ${s.waiting} waiting` };
    }
    if (s.waiting && s.login) return { state: "waiting", text: `${s.waiting} waiting · log in to send` };
    if (s.waiting && s.offline) return { state: "offline", text: `No network · ${s.waiting} waiting` };
    if (s.waiting) return { state: "waiting", text: `${s.waiting} waiting` };
    return { state: "ok", text: "All sent" };
  }

  let shown = Promise.resolve();
  function showStatus() {
    shown = shown.then(async () => {
      let s;
      try {
        s = await FieldSync.state();
      } catch (error) {
        if (pill) {
          pill.textContent = `Storage problem: ${error.message}`;
          pill.dataset.state = "flagged";
        }
        return;
      }
      if (pill) {
        const { state, text } = describe(s);
        pill.textContent = text;
        pill.dataset.state = state;
        pill.setAttribute("aria-label", `Outbox: ${text}`);
      }
      if (sendNowButton) {
        sendNowButton.hidden = s.waiting === 0;
        sendNowButton.disabled = s.sending;
      }
      document.dispatchEvent(new CustomEvent("fieldapp:status", { detail: s }));
    });
    return shown;
  }

  // The service worker that can take a job: the page's controller, or on the very first visit
  // (before it controls the page) the freshly activated one. None when there is no worker.
  async function activeWorker() {
    if (!("serviceWorker" in navigator)) return null;
    if (navigator.serviceWorker.controller) return navigator.serviceWorker.controller;
    const gaveUp = new Promise((resolve) => setTimeout(() => resolve(null), WORKER_WAIT_MS));
    const registration = await Promise.race([navigator.serviceWorker.ready, gaveUp]);
    return registration ? registration.active : null;
  }

  async function refill() {
    // The worker refills the stock when it can: it outlives a page the collector leaves mid-way,
    // so reserved numbers are not lost between the server's answer and the phone's storage.
    const worker = await activeWorker();
    if (worker) {
      worker.postMessage({ type: "refill-tickets" });
      return;
    }
    try {
      await FieldSync.refillTickets();
    } catch (_) { /* offline: the stock is refilled next time */ }
  }

  // Send what is due (everything when `now`), then top up the tickets if anything happened.
  async function sync(now, { topUp = now } = {}) {
    let result = null;
    try {
      result = await FieldSync.syncOutbox({ now });
    } catch (_) {
      /* the phone's storage failed: showStatus says so */
    } finally {
      progress = null;
      await showStatus();
    }
    if (topUp || (result && result.sent)) await refill();
    return result;
  }

  // ---- Log out: asks first, and says what stays on the phone. ----
  const logoutForm = document.querySelector("form[data-logout]");
  const logoutDialog = $("logout-dialog");
  let loggingOut = false;
  if (logoutForm && logoutDialog) {
    logoutForm.addEventListener("submit", async (event) => {
      if (loggingOut) return;
      event.preventDefault();
      let words = "Nothing is waiting on this phone.";
      try {
        const s = await FieldSync.state();
        const held = s.waiting + s.flagged;
        if (held) {
          words = held === 1
            ? "1 encounter is still on this phone, not sent yet. It stays on this phone and is sent after you log in again."
            : `${held} encounters are still on this phone, not sent yet. They stay on this phone and are sent after you log in again.`;
        }
      } catch (_) { /* the storage could not be read: say nothing about it */ }
      const draft = window.FieldApp.draftInProgress && window.FieldApp.draftInProgress();
      if (draft) words += " The encounter in progress stays here as a draft.";
      $("logout-waiting").textContent = words;
      logoutDialog.returnValue = "";
      logoutDialog.showModal();
    });
    logoutDialog.addEventListener("close", () => {
      if (logoutDialog.returnValue !== "logout") return;
      loggingOut = true;
      window.FieldApp.leaving = true;
      logoutForm.submit();
    });
  }

  // ---- In a browser tab, once: add the app to the home screen. ----
  async function offerInstall() {
    const hint = $("install-hint");
    if (!hint || standalone) return;
    let seen = null;
    try {
      seen = await FieldStore.getMeta("install_hint_seen");
    } catch (_) { /* storage unreadable: show it */ }
    if (seen) return;
    const apple = /iPhone|iPad|iPod/.test(navigator.userAgent) ||
      (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1);
    $("install-how").textContent = apple
      ? "In Safari: tap Share (the square with an arrow), then “Add to Home Screen”."
      : "In the browser's menu (⋮), tap “Install app” or “Add to Home screen”.";
    hint.hidden = false;
    $("install-ok").addEventListener("click", () => {
      hint.hidden = true;
      FieldStore.setMeta("install_hint_seen", Date.now()).catch(() => {});
    }, { once: true });
  }

  window.FieldApp = { sync, showStatus, standalone, leaving: false, draftInProgress: null };
  document.documentElement.classList.add("js");
  document.documentElement.dataset.display = standalone ? "standalone" : "browser";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }
  if (navigator.storage && navigator.storage.persist) {
    // Ask the browser never to evict the outbox (granted to installed apps; a tab may be refused).
    navigator.storage.persisted().then((yes) => yes || navigator.storage.persist()).catch(() => {});
  }
  FieldSync.listen((message) => {
    if (message && message.type === "progress") progress = message.share;
    showStatus();
  });
  // A page brought back from the back-forward cache had its storage work cut short when it
  // was put away (store.js): load it afresh rather than show what may no longer be true.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    window.FieldApp.leaving = true;
    window.location.reload();
  });
  if (sendNowButton) sendNowButton.addEventListener("click", () => sync(true));
  window.addEventListener("online", () => sync(true));
  window.addEventListener("offline", () => showStatus());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") sync(true);
  });
  // Records that failed for lack of network are due again a few seconds later: this is how a
  // wifi that "connects" but does not answer is noticed coming back, with no `online` event.
  setInterval(() => {
    if (document.visibilityState !== "hidden" && navigator.onLine !== false) sync(false, { topUp: false });
  }, TICK_MS);
  offerInstall();
  sync(true); // the app has just opened: try everything now
})();
