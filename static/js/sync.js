// Sending the outbox and keeping the ticket stock full. Runs in the pages and in the service
// worker; a Web Lock makes sure only one of them sends at a time.
//
// Every request has a deadline: a bar's wifi that connects but never answers must not hold the
// outbox. An upload from a page is abandoned when it makes no progress for STALL_MS or gets no
// answer ANSWER_MS after its last byte; every other request after a fixed time.
//
// What each server answer does to an outbox record:
//   200, 201          confirmed: the record (photo included) leaves the phone
//   410               the drawer withdrew: the phone's copy is discarded, it can never come back
//   401               the login has expired: kept, waiting for the collector to log in again
//   408, 429, 5xx     kept, retried with backoff (and at once when the collector says so)
//   other 4xx         kept and flagged with the server's message, for the collector to resolve
//   no answer         kept, tried again NETWORK_RETRY_MS later: a dead network costs one small request
(function (global) {
  "use strict";
  const SYNC_TAG = "fieldapp-outbox";
  const SESSION_TIMEOUT_MS = 6000;
  const SMALL_TIMEOUT_MS = 10000;
  const STALL_MS = 15000;
  const ANSWER_MS = 20000;
  const NETWORK_RETRY_MS = 5000;
  const FIRST_DELAY_MS = 5000;
  const MAX_DELAY_MS = 15 * 60 * 1000;
  const channel = "BroadcastChannel" in global ? new BroadcastChannel("fieldapp") : null;
  const listeners = new Set();
  let sending = false;

  // Tell this page's listeners and every other page that the outbox may have changed.
  function announce(detail = { type: "outbox-changed" }) {
    listeners.forEach((listener) => listener(detail));
    if (channel) channel.postMessage(detail);
  }
  if (channel) channel.addEventListener("message", (event) => listeners.forEach((l) => l(event.data)));

  // No answer at all: no network, a dropped connection, or a deadline passed.
  class NoAnswer extends Error {
    constructor(message) {
      super(message);
      this.name = "NoAnswer";
    }
  }

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

  // fetch with a deadline that covers the body too. Resolves {status, ok, body}; rejects with
  // NoAnswer when nothing (or only part of an answer) came back in time.
  async function call(url, { timeout = SMALL_TIMEOUT_MS, read = "json", ...options } = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    const noAnswer = () => new NoAnswer(controller.signal.aborted ? `No answer within ${Math.round(timeout / 1000)} s` : "No network");
    try {
      let response;
      try {
        response = await fetch(url, { credentials: "same-origin", cache: "no-store", ...options, signal: controller.signal });
      } catch (_) {
        throw noAnswer();
      }
      let body = null;
      try {
        if (read === "text") body = await response.text();
        else if (read === "json") body = await response.json();
      } catch (error) {
        if (controller.signal.aborted || error instanceof TypeError) throw noAnswer(); // cut mid-way
        body = null; // an answer that is not JSON: its status says enough
      }
      return { status: response.status, ok: response.ok, body };
    } finally {
      clearTimeout(timer);
    }
  }

  // The CSRF token for this login, fresh each time (a cached page's token may have expired).
  // Resolves null when nobody is logged in; rejects when the server cannot be reached.
  async function session() {
    const answer = await call("/api/v1/session", { timeout: SESSION_TIMEOUT_MS });
    if (answer.status === 401) return null;
    if (!answer.ok || !answer.body) {
      const trouble = new Error(`The server answered ${answer.status}.`);
      trouble.status = answer.status;
      throw trouble;
    }
    return answer.body;
  }

  // An upload from a page: XMLHttpRequest reports the upload's progress, so a connection that
  // still moves is never cut, and one that stopped moving is cut after STALL_MS.
  function uploadWithProgress(url, body, headers, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      let timer = null;
      const fail = (message) => { clearTimeout(timer); reject(new NoAnswer(message)); };
      const deadline = (ms, message) => {
        clearTimeout(timer);
        timer = setTimeout(() => { xhr.abort(); fail(message); }, ms);
      };
      xhr.open("PUT", url);
      Object.entries(headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
      xhr.upload.onprogress = (event) => {
        deadline(STALL_MS + ANSWER_MS, "The upload stopped moving");
        if (onProgress && event.lengthComputable && event.total) onProgress(event.loaded / event.total);
      };
      xhr.upload.onload = () => deadline(ANSWER_MS, `No answer within ${ANSWER_MS / 1000} s of the upload`);
      xhr.onload = () => {
        clearTimeout(timer);
        let parsed = null;
        try { parsed = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        resolve({ status: xhr.status, ok: xhr.status >= 200 && xhr.status < 300, body: parsed });
      };
      xhr.onerror = () => fail("The connection dropped");
      deadline(STALL_MS + ANSWER_MS, "The upload did not start moving");
      xhr.send(body);
    });
  }

  // PUT one encounter: its data and, if it has one, its photo.
  async function put(record, photo, csrfToken, onProgress) {
    const body = new FormData();
    body.append("data", JSON.stringify(record.data));
    if (photo) body.append("photo", photo, (record.photo && record.photo.name) || "drawing.jpg");
    const url = `/api/v1/encounters/${record.uuid}`;
    const headers = { "X-CSRFToken": csrfToken };
    if (typeof XMLHttpRequest !== "undefined") return uploadWithProgress(url, body, headers, onProgress);
    // The service worker has no XMLHttpRequest: a deadline that grows with the photo instead.
    const timeout = ANSWER_MS + STALL_MS + (photo ? photo.size / 16 : 0); // 16 KB/s at worst
    return call(url, { method: "PUT", body, headers, timeout });
  }

  function problemOf(answer) {
    const body = answer.body || {};
    return {
      status: answer.status,
      message: body.error || `The server answered ${answer.status}.`,
      errors: body.errors || [],
    };
  }

  async function postpone(record, message, { network }) {
    await FieldStore.updateRecord(record.uuid, (r) => {
      r.attempts = (r.attempts || 0) + 1;
      r.next_try_at = Date.now() + (network ? NETWORK_RETRY_MS : retryDelay(r.attempts));
      r.last_problem = message;
      r.offline = network;
    });
  }

  async function note(result) {
    await FieldStore.setMeta("last_sync", { at: Date.now(), ...result });
    return result;
  }

  // The QR code of a participant link, as SVG text (for a drawing the server just numbered).
  async function qrCode(token) {
    const answer = await call(`/p/${encodeURIComponent(token)}/qr.svg`, { credentials: "omit", read: "text" });
    if (!answer.ok) throw new Error(`The server answered ${answer.status}.`);
    return answer.body;
  }

  // A drawing that left the phone without a ticket got its number from the server: keep its QR
  // code with the phone's last ones (when the QR can be fetched now; it is not essential).
  async function rememberNumbered(record, body) {
    if (record.ticket || !body || !body.token) return;
    try {
      await FieldStore.rememberHandoff(record.uuid, record.created_at, { ...body, qr_svg: await qrCode(body.token) });
    } catch (_) { /* the log has it */ }
  }

  // Send one record; says what became of it: "sent", "gone", "flagged", "login", or throws.
  async function sendOne(record, auth, onProgress) {
    const photo = await FieldStore.getPhoto(record);
    const answer = await put(record, photo, auth.csrf_token, onProgress);
    if (answer.ok) {
      await FieldStore.removeRecord(record.uuid, record.revision);
      await rememberNumbered(record, answer.body);
      return "sent";
    }
    if (answer.status === 410) {
      await FieldStore.removeRecord(record.uuid);
      return "gone";
    }
    if (answer.status === 401) return "login";
    const problem = problemOf(answer);
    if ([408, 429].includes(answer.status) || answer.status >= 500) {
      await postpone(record, problem.message, { network: false });
      const trouble = new Error(`The server could not take it yet (${answer.status}).`);
      trouble.status = answer.status;
      throw trouble;
    }
    await FieldStore.updateRecord(record.uuid, (r) => {
      if (r.revision !== record.revision) return; // edited meanwhile: send the new version
      r.state = "flagged";
      r.error = problem;
    });
    return "flagged";
  }

  function setSending(on) {
    sending = on;
    announce({ type: "sending", on });
  }

  // Send every record that is due (all waiting ones when `now` is set). Resolves with a summary,
  // or null when there was nothing to do or another page is sending.
  async function syncOutbox({ now = false } = {}) {
    return withLock("fieldapp-sync", async () => {
      const records = await FieldStore.listRecords();
      const due = records.filter((r) => r.state === "queued" && (now || !(r.next_try_at > Date.now())));
      if (!due.length) return null;
      setSending(true);
      const tally = { sent: 0, flagged: 0, discarded: 0 };
      try {
        let auth;
        try {
          auth = await session();
        } catch (error) {
          const network = error instanceof NoAnswer;
          await Promise.all(due.map((r) => postpone(r, network ? "No network" : error.message, { network })));
          return await note({ ok: false, offline: network, ...tally, message: network ? "No network: waiting to send." : error.message });
        }
        if (!auth) return await note({ ok: false, login: true, ...tally, message: "Log in to send." });
        for (const record of due) {
          let outcome;
          try {
            outcome = await sendOne(record, auth, (share) => announce({ type: "progress", uuid: record.uuid, share }));
          } catch (error) {
            const network = error instanceof NoAnswer;
            if (network) await postpone(record, error.message, { network: true });
            return await note({ ok: false, offline: network, ...tally, message: network ? `${error.message}: waiting to send.` : error.message });
          }
          if (outcome === "login") return await note({ ok: false, login: true, ...tally, message: "Log in to send." });
          if (outcome === "sent") tally.sent += 1;
          if (outcome === "gone") tally.discarded += 1;
          if (outcome === "flagged") tally.flagged += 1;
          announce();
        }
        return await note({ ok: tally.flagged === 0, ...tally, message: tally.flagged ? `Sent ${tally.sent}; the server refused ${tally.flagged}.` : `Sent ${tally.sent}.` });
      } finally {
        setSending(false);
      }
    });
  }

  // What the outbox holds right now, for the status pill and the outbox page.
  async function state() {
    const records = await FieldStore.listRecords();
    const waiting = records.filter((r) => r.state === "queued");
    const flagged = records.filter((r) => r.state === "flagged");
    const last = (await FieldStore.getMeta("last_sync")) || null;
    const online = !global.navigator || navigator.onLine !== false;
    return {
      records,
      waiting: waiting.length,
      flagged: flagged.length,
      sending,
      offline: !online || waiting.some((r) => r.offline),
      login: Boolean(last && last.login && waiting.length),
      problem: flagged.length ? `${flagged[0].error.status}: ${flagged[0].error.message}` : null,
      last,
    };
  }

  // Upload one encounter now, bypassing the phone's storage (which refused it). Resolves with the
  // server's description of it ({number, token, participant_url, ...}); rejects with a message.
  async function uploadDirect(record, photoBlob) {
    const auth = await session();
    if (!auth) throw new Error("Log in again to send it.");
    const answer = await put(record, photoBlob, auth.csrf_token);
    if (answer.ok) return answer.body;
    const problem = problemOf(answer);
    const refused = new Error(problem.message);
    refused.problem = problem;
    throw refused;
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
        const answer = await call("/api/v1/tickets", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRFToken": auth.csrf_token },
          body: JSON.stringify({ count: target - stock.length }),
        });
        if (!answer.ok || !answer.body) throw new Error(`Tickets: the server answered ${answer.status}.`);
        const fresh = answer.body.tickets.map((t) => ({ ...t, qr_svg: null }));
        await FieldStore.putTickets(fresh); // keep the reservation even if a QR download fails
        stock = await FieldStore.listTickets();
      }
      for (const ticket of stock.filter((t) => !t.qr_svg)) {
        await FieldStore.putTickets([{ ...ticket, qr_svg: await qrCode(ticket.token) }]);
      }
      announce();
      return (await FieldStore.listTickets()).length;
    });
  }

  async function requestBackgroundSync() {
    try {
      const registration = await navigator.serviceWorker.ready;
      if (registration.sync) await registration.sync.register(SYNC_TAG);
    } catch (_) { /* no Background Sync here (WebKit): the pages' own triggers do the job */ }
  }

  global.FieldSync = {
    SYNC_TAG, NoAnswer, syncOutbox, refillTickets, requestBackgroundSync, announce, state,
    uploadDirect, qrCode, call,
    listen: (listener) => listeners.add(listener),
  };
})(self);
