// Sending the outbox and keeping the ticket stock full. Runs in the pages and in the service
// worker (Background Sync); a Web Lock makes sure only one of them sends at a time.
//
// What each server answer does to an outbox record:
//   200, 201          confirmed: the record (photo included) leaves the phone
//   410               the drawer withdrew: the phone's copy is discarded, it can never come back
//   401               the login has expired: kept, waiting for the collector to log in again
//   408, 429, 5xx     kept, retried with backoff (and at once when the app opens or goes online)
//   other 4xx         kept and flagged with the server's message, for the collector to resolve
//   no answer         kept, retried with backoff
(function (global) {
  "use strict";
  const SYNC_TAG = "fieldapp-outbox";
  const FIRST_DELAY_MS = 5000;
  const MAX_DELAY_MS = 15 * 60 * 1000;
  const channel = "BroadcastChannel" in global ? new BroadcastChannel("fieldapp") : null;

  const announce = () => channel && channel.postMessage({ type: "outbox-changed" });

  function withLock(name, work) {
    if (global.navigator && navigator.locks) {
      return navigator.locks.request(name, { ifAvailable: true }, (lock) => (lock ? work() : null));
    }
    return work();
  }

  function retryDelay(attempts) {
    const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempts - 1));
    return base * (0.8 + Math.random() * 0.4); // jitter: ten phones do not retry in step
  }

  // The CSRF token for this login, fresh each time (a cached page's token may have expired).
  // Resolves null when nobody is logged in; rejects when the server cannot be reached.
  async function session() {
    const response = await fetch("/api/v1/session", { credentials: "same-origin", cache: "no-store" });
    if (response.status === 401) return null;
    if (!response.ok) throw new Error(`The server answered ${response.status}.`);
    return response.json();
  }

  async function readError(response) {
    try {
      const body = await response.json();
      return { status: response.status, message: body.error || `HTTP ${response.status}`, errors: body.errors || [] };
    } catch (_) {
      return { status: response.status, message: `The server answered ${response.status}.`, errors: [] };
    }
  }

  async function put(record, csrfToken) {
    const body = new FormData();
    body.append("data", JSON.stringify(record.data));
    if (record.photo) body.append("photo", record.photo, record.photo_name || "drawing.jpg");
    return fetch(`/api/v1/encounters/${record.uuid}`, {
      method: "PUT",
      body,
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-CSRFToken": csrfToken },
    });
  }

  async function postpone(record, message) {
    await FieldStore.updateRecord(record.uuid, (r) => {
      r.attempts = (r.attempts || 0) + 1;
      r.next_try_at = Date.now() + retryDelay(r.attempts);
      r.last_problem = message;
    });
  }

  async function note(result) {
    await FieldStore.setMeta("last_sync", { at: Date.now(), ...result });
    announce();
    return result;
  }

  // Send every record that is due (all waiting ones when `now` is set). Resolves with a summary;
  // `retry` is true when something could not be sent for lack of network or server.
  async function syncOutbox({ now = false } = {}) {
    const outcome = await withLock("fieldapp-sync", async () => {
      const records = await FieldStore.listRecords();
      const due = records.filter((r) => r.state === "queued" && (now || !(r.next_try_at > Date.now())));
      if (!due.length) return null;
      let auth;
      try {
        auth = await session();
      } catch (error) {
        await Promise.all(due.map((r) => postpone(r, "No network")));
        return note({ ok: false, retry: true, sent: 0, message: "No network: waiting to send." });
      }
      if (!auth) return note({ ok: false, retry: false, login: true, sent: 0, message: "Log in to send." });
      let sent = 0;
      let flagged = 0;
      let discarded = 0;
      for (const record of due) {
        let response;
        try {
          response = await put(record, auth.csrf_token);
        } catch (error) {
          await postpone(record, "No network");
          return note({ ok: false, retry: true, sent, flagged, discarded, message: "The network went away while sending." });
        }
        if (response.ok) {
          await FieldStore.removeRecord(record.uuid, record.revision);
          sent += 1;
        } else if (response.status === 410) {
          await FieldStore.removeRecord(record.uuid);
          discarded += 1;
        } else if (response.status === 401) {
          return note({ ok: false, retry: false, login: true, sent, flagged, discarded, message: "Log in to send." });
        } else if ([408, 429].includes(response.status) || response.status >= 500) {
          const problem = await readError(response);
          await postpone(record, problem.message);
          return note({ ok: false, retry: true, sent, flagged, discarded, message: `The server could not take it yet (${response.status}).` });
        } else {
          const problem = await readError(response);
          await FieldStore.updateRecord(record.uuid, (r) => {
            if (r.revision !== record.revision) return; // edited meanwhile: send the new version
            r.state = "flagged";
            r.error = problem;
          });
          flagged += 1;
        }
        announce();
      }
      const message = flagged ? `${flagged} need${flagged === 1 ? "s" : ""} your attention.` : "All sent.";
      return note({ ok: flagged === 0, retry: false, sent, flagged, discarded, message });
    });
    return outcome;
  }

  // Keep `ticket_stock` reserved tickets (with their QR codes) on the phone; top up when low.
  async function refillTickets() {
    return withLock("fieldapp-tickets", async () => {
      const { ticket_stock: target } = await FieldStore.settings();
      let stock = await FieldStore.listTickets();
      const low = stock.length <= Math.floor(target / 2);
      if (!low && stock.every((t) => t.qr_svg)) return stock.length;
      const auth = await session();
      if (!auth) return stock.length;
      if (low && target > stock.length) {
        const response = await fetch("/api/v1/tickets", {
          method: "POST",
          credentials: "same-origin",
          cache: "no-store",
          headers: { "Content-Type": "application/json", "X-CSRFToken": auth.csrf_token },
          body: JSON.stringify({ count: target - stock.length }),
        });
        if (!response.ok) throw new Error(`Tickets: the server answered ${response.status}.`);
        const fresh = (await response.json()).tickets.map((t) => ({ ...t, qr_svg: null }));
        await FieldStore.putTickets(fresh); // keep the reservation even if a QR download fails
        stock = await FieldStore.listTickets();
      }
      for (const ticket of stock.filter((t) => !t.qr_svg)) {
        const response = await fetch(`/p/${encodeURIComponent(ticket.token)}/qr.svg`, { credentials: "omit", cache: "no-store" });
        if (response.ok) await FieldStore.putTickets([{ ...ticket, qr_svg: await response.text() }]);
      }
      announce();
      return (await FieldStore.listTickets()).length;
    });
  }

  async function requestBackgroundSync() {
    try {
      const registration = await navigator.serviceWorker.ready;
      if (registration.sync) await registration.sync.register(SYNC_TAG);
    } catch (_) { /* no Background Sync here: the page's own retries do the job */ }
  }

  global.FieldSync = { SYNC_TAG, syncOutbox, refillTickets, requestBackgroundSync, announce };
})(self);
