// On every collector page: install the service worker, keep the ticket stock full, send the
// outbox when the app opens, when the network returns and every little while, and say how it went.
(() => {
  "use strict";
  const RETRY_CHECK_MS = 15000;
  const WORKER_WAIT_MS = 5000;
  const statusLink = document.getElementById("sync-status");

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  function ago(ms) {
    const s = Math.round((Date.now() - ms) / 1000);
    if (s < 60) return "just now";
    if (s < 3600) return `${Math.round(s / 60)} min ago`;
    return `${Math.round(s / 3600)} h ago`;
  }

  async function showStatus() {
    if (!statusLink) return;
    const records = await FieldStore.listRecords();
    const waiting = records.filter((r) => r.state === "queued").length;
    const flagged = records.filter((r) => r.state === "flagged").length;
    const last = await FieldStore.getMeta("last_sync");
    let text;
    let state;
    if (flagged) {
      text = `${plural(flagged, "needs", "need")} attention`;
      state = "flagged";
    } else if (waiting) {
      text = `${waiting} waiting`;
      if (last && last.login) text += " · log in to send";
      else if (last && !last.ok) text += ` · no network ${ago(last.at)}`;
      state = "waiting";
    } else {
      text = last && last.at ? `All sent · ${ago(last.at)}` : "All sent";
      state = "ok";
    }
    statusLink.textContent = text;
    statusLink.dataset.state = state;
    statusLink.setAttribute("aria-label", `Outbox: ${text}`);
    document.dispatchEvent(new CustomEvent("fieldapp:status", { detail: { waiting, flagged, last } }));
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

  async function sync(now) {
    try {
      await FieldSync.syncOutbox({ now });
    } finally {
      await showStatus();
    }
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

  window.FieldApp = { sync, showStatus };

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }
  if (navigator.storage && navigator.storage.persist) {
    // Ask the browser never to evict the outbox under storage pressure.
    navigator.storage.persisted().then((yes) => yes || navigator.storage.persist()).catch(() => {});
  }
  if ("BroadcastChannel" in window) {
    new BroadcastChannel("fieldapp").addEventListener("message", () => showStatus());
  }
  window.addEventListener("online", () => sync(true));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") sync(true);
  });
  setInterval(() => { if (navigator.onLine) sync(false); }, RETRY_CHECK_MS);
  sync(true); // the app has just opened: try everything now
})();
