// The phone's own records, in IndexedDB: the outbox of encounters, their photos, the ticket
// stock, the encounter in progress (a draft), the last QR codes handed out, and settings.
// Loaded by the pages and by the service worker (importScripts): no DOM, no modules.
//
// Stores (database version 2):
//   outbox   { uuid, created_at, revision, data (the API's `data` JSON), photo ({type, name, size}
//            or null: the bytes are in `photos`), ticket ({number, token, participant_url, qr_svg}
//            or null), state ("queued" | "flagged"), attempts, next_try_at, last_problem, error }
//   photos   key uuid → { buffer (ArrayBuffer), type, name }
//   tickets  { number, token, participant_url, qr_svg }
//   drafts   "capture" → the capture form as it stands (capture.js); "capture-photo" → its photo
//   recent   { uuid, created_at, number, token, participant_url, qr_svg }: the last RECENT_KEPT
//   meta     settings, last_venue, last_sync, ...
//
// Photos are kept as ArrayBuffers, never Blobs: WebKit (Safari) refuses to store a Blob or File
// ("Error preparing Blob/File data to be stored in object store"). Version 1 kept Blobs in the
// outbox records; they are moved to `photos` the first time a page opens the database.
(function (global) {
  "use strict";
  const DB_NAME = "fieldapp";
  const DB_VERSION = 2;
  const RECENT_KEPT = 10;
  const VENUE_FRESH_MS = 12 * 60 * 60 * 1000; // a venue used longer ago is offered, not assumed
  const DEFAULT_SETTINGS = { full_resolution: false, ticket_stock: 10 };
  let opening = null;

  function upgrade(db, oldVersion) {
    if (oldVersion < 1) {
      db.createObjectStore("outbox", { keyPath: "uuid" }).createIndex("created_at", "created_at");
      db.createObjectStore("tickets", { keyPath: "number" });
      db.createObjectStore("meta");
    }
    if (oldVersion < 2) {
      db.createObjectStore("photos");
      db.createObjectStore("drafts");
      db.createObjectStore("recent", { keyPath: "uuid" }).createIndex("created_at", "created_at");
    }
  }

  // One connection per page, opened again whenever the engine closes it (WebKit does when the
  // app is backgrounded for a while, or when another tab upgrades the database).
  function open() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, DB_VERSION);
        request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
        request.onsuccess = () => {
          const db = request.result;
          db.onversionchange = () => { db.close(); opening = null; };
          db.onclose = () => { opening = null; };
          resolve(db);
        };
        request.onerror = () => { opening = null; reject(friendly(request.error)); };
        request.onblocked = () => { /* another tab holds version 1: it closes on versionchange */ };
      }).then(async (db) => {
        try {
          await movePhotosOutOfRecords(db);
        } catch (_) { /* storage full: such a record is still sent with its Blob (sync.js) */ }
        return db;
      });
      opening.catch(() => { opening = null; });
    }
    return opening;
  }

  // A storage error the collector can act on, keeping the engine's name for callers. A full
  // phone says so as QuotaExceededError, or (Chromium, for large values) as a failed write.
  function friendly(error) {
    if (!error) return new Error("The phone's storage refused the change.");
    if (error.name === "QuotaExceededError" || /IOError|disk|space|quota/i.test(error.message || "")) {
      const full = new Error(`This phone's storage for the app is full (${error.message || error.name})`);
      full.name = error.name;
      return full;
    }
    return error;
  }

  // A page frozen in the back-forward cache ends what it has begun and lets go of its
  // connection. WebKit freezes such a page with its transactions open: a read-write one would
  // then block every later page's access to the same stores, for good. An aborted transaction
  // writes nothing (each one is all or nothing), and a page that comes back from that cache is
  // reloaded (app.js). A page that is really unloaded is left to the browser.
  const live = new Set();
  if (typeof window !== "undefined") {
    window.addEventListener("pagehide", (event) => {
      if (!event.persisted) return;
      live.forEach((tx) => { try { tx.abort(); } catch (_) { /* finished meanwhile */ } });
      live.clear();
      const closing = opening;
      opening = null;
      if (closing) closing.then((db) => db.close(), () => {});
    });
  }

  const done = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

  // A connection the engine has closed says so only when it is used: open it again, once.
  function lostConnection(error) {
    return error && (error.name === "InvalidStateError" ||
      (error.name === "UnknownError" && /lost|clos/i.test(error.message || "")));
  }

  // Run `work(stores)` in one transaction. Resolves with its result only once the transaction has
  // committed to disk ("strict" durability), so a caller may show the QR code after it. `work`
  // must only use the stores (it may run twice if the connection was lost the first time).
  async function transact(names, mode, work, retried = false) {
    const db = await open();
    let tx;
    try {
      tx = db.transaction(names, mode, { durability: "strict" });
    } catch (error) {
      if (!retried && lostConnection(error)) { opening = null; return transact(names, mode, work, true); }
      throw friendly(error);
    }
    live.add(tx);
    return new Promise((resolve, reject) => {
      const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
      let result;
      let failed = null;
      Promise.resolve()
        .then(() => work(stores))
        .then((value) => { result = value; }, (error) => {
          failed = error;
          try { tx.abort(); } catch (_) { /* already finished */ }
        });
      tx.oncomplete = () => { live.delete(tx); resolve(result); };
      tx.onabort = () => {
        live.delete(tx);
        // A request still pending when the transaction failed only says "aborted": the cause
        // (a full disk, say) is the transaction's own error.
        const error = (failed && failed.name !== "AbortError") ? failed : (tx.error || failed);
        if (!retried && lostConnection(error)) {
          opening = null;
          transact(names, mode, work, true).then(resolve, reject);
          return;
        }
        reject(friendly(error));
      };
    });
  }

  // Version 1 kept each photo as a Blob inside its outbox record. Move each to `photos` as an
  // ArrayBuffer, one record per transaction; the old record stays whole until its move commits.
  async function movePhotosOutOfRecords(db) {
    const reading = db.transaction(["outbox"], "readonly");
    live.add(reading);
    reading.oncomplete = reading.onabort = () => live.delete(reading);
    const records = await done(reading.objectStore("outbox").getAll());
    for (const old of records.filter((r) => r.photo && typeof Blob !== "undefined" && r.photo instanceof Blob)) {
      const buffer = await old.photo.arrayBuffer();
      const tx = db.transaction(["outbox", "photos"], "readwrite");
      live.add(tx);
      const outbox = tx.objectStore("outbox");
      const current = await done(outbox.get(old.uuid));
      if (current && current.photo instanceof Blob) {
        const type = current.photo.type || "image/jpeg";
        const name = current.photo_name || `${current.uuid}.jpg`;
        tx.objectStore("photos").put({ buffer, type, name }, current.uuid);
        current.photo = { type, name, size: buffer.byteLength };
        delete current.photo_name;
        outbox.put(current);
      }
      await new Promise((resolve, reject) => {
        tx.oncomplete = () => { live.delete(tx); resolve(); };
        tx.onabort = () => { live.delete(tx); reject(tx.error); };
      });
    }
  }

  const byNumber = (a, b) => a.number - b.number;

  // The phone's local time with its UTC offset, as the API wants moments.
  function localIso(date = new Date()) {
    const pad = (n) => String(n).padStart(2, "0");
    const offset = -date.getTimezoneOffset();
    const abs = Math.abs(offset);
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
      `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
      `${offset >= 0 ? "+" : "-"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  // A photo as the stores keep it: the bytes, their type and a file name.
  async function photoFrom(blob, name) {
    return { buffer: await blob.arrayBuffer(), type: blob.type || "image/jpeg", name };
  }

  const photoBlob = (photo) => (photo ? new Blob([photo.buffer], { type: photo.type }) : null);
  const photoMeta = (photo) => (photo ? { type: photo.type, name: photo.name, size: photo.buffer.byteLength } : null);

  // A record for the outbox, waiting to be sent. `photo` is {buffer, type, name} or null.
  function newRecord({ uuid = crypto.randomUUID(), data, photo = null }) {
    return {
      uuid, created_at: Date.now(), revision: 1, data, photo: photoMeta(photo), ticket: null,
      state: "queued", attempts: 0, next_try_at: 0, last_problem: null, error: null,
      pending_photo: photo, // written to `photos` by saveNew, never stored in the record
    };
  }

  // Keep the newest RECENT_KEPT handoffs (the phone's last QR codes), drop the others.
  async function trimRecent(recent) {
    const all = await done(recent.index("created_at").getAllKeys());
    all.slice(0, Math.max(0, all.length - RECENT_KEPT)).forEach((uuid) => recent.delete(uuid));
  }

  function handoffOf(uuid, created_at, ticket) {
    const { number, token, participant_url, qr_svg } = ticket;
    return { uuid, created_at, number, token, participant_url, qr_svg };
  }

  const FieldStore = {
    // The open connection (diagnostics and tests: close it to see the store open it again).
    connection: open,
    DEFAULT_SETTINGS,
    RECENT_KEPT,
    localIso,
    newRecord,
    photoFrom,
    photoBlob,

    async listRecords() {
      return transact(["outbox"], "readonly", (s) => done(s.outbox.index("created_at").getAll()));
    },

    async getRecord(uuid) {
      return transact(["outbox"], "readonly", (s) => done(s.outbox.get(uuid)));
    },

    // The photo of a waiting record, as a Blob (null if it has none).
    async getPhoto(record) {
      if (!record.photo) return null;
      if (typeof Blob !== "undefined" && record.photo instanceof Blob) return record.photo; // not moved yet
      return photoBlob(await transact(["photos"], "readonly", (s) => done(s.photos.get(record.uuid))));
    },

    // A new encounter, with the next ticket from the stock when it takes one (`withTicket`),
    // its photo, its QR code among the recent ones, the venue remembered for the next one, and
    // the draft it came from cleared: one transaction, so nothing half-saved.
    async saveNew(record, { withTicket, clearDraft = false }) {
      const photo = record.pending_photo || null;
      delete record.pending_photo;
      return transact(["outbox", "photos", "tickets", "meta", "recent", "drafts"], "readwrite", async (s) => {
        record.ticket = null;
        delete record.data.ticket;
        if (withTicket) {
          const stock = (await done(s.tickets.getAll())).filter((t) => t.qr_svg).sort(byNumber);
          if (stock.length) {
            record.ticket = stock[0];
            record.data.ticket = stock[0].token;
            s.tickets.delete(stock[0].number);
          }
        }
        const { venue_type, venue, city } = record.data;
        s.meta.put({ venue_type, venue, city, at: Date.now() }, "last_venue");
        if (photo) s.photos.put(photo, record.uuid);
        if (record.ticket) {
          s.recent.put(handoffOf(record.uuid, record.created_at, record.ticket));
          await trimRecent(s.recent);
        }
        if (clearDraft) {
          s.drafts.delete("capture");
          s.drafts.delete("capture-photo");
        }
        await done(s.outbox.add(record));
        return record;
      });
    },

    // Change a waiting record with `change(record)`; resolves with it, or null if it has gone.
    // A change that sets `record.photo` to null deletes its photo too.
    async updateRecord(uuid, change) {
      return transact(["outbox", "photos"], "readwrite", async (s) => {
        const record = await done(s.outbox.get(uuid));
        if (!record) return null;
        change(record);
        if (!record.photo) s.photos.delete(uuid);
        await done(s.outbox.put(record));
        return record;
      });
    },

    // A lighter copy of a photo saved as taken replaces it, while no upload of it has begun:
    // taken under the sender's lock, so never while the record is on its way.
    async swapPhoto(uuid, photo) {
      const swap = () => transact(["outbox", "photos"], "readwrite", async (s) => {
        const record = await done(s.outbox.get(uuid));
        if (!record || !record.photo || record.attempts || record.state !== "queued") return false;
        s.photos.put(photo, uuid);
        record.photo = photoMeta(photo);
        await done(s.outbox.put(record));
        return true;
      });
      if (global.navigator && navigator.locks) return navigator.locks.request("fieldapp-sync", swap);
      return swap();
    },

    // Remove a record the server has confirmed, unless it was edited since it was sent.
    async removeRecord(uuid, revision) {
      return transact(["outbox", "photos"], "readwrite", async (s) => {
        const record = await done(s.outbox.get(uuid));
        if (!record || (revision !== undefined && record.revision !== revision)) return false;
        s.photos.delete(uuid);
        await done(s.outbox.delete(uuid));
        return true;
      });
    },

    async listTickets() {
      const tickets = await transact(["tickets"], "readonly", (s) => done(s.tickets.getAll()));
      return tickets.sort(byNumber);
    },

    async putTickets(tickets) {
      return transact(["tickets"], "readwrite", (s) => { tickets.forEach((t) => s.tickets.put(t)); });
    },

    // The last QR codes handed out on this phone, newest first.
    async listRecent() {
      const recent = await transact(["recent"], "readonly", (s) => done(s.recent.index("created_at").getAll()));
      return recent.reverse();
    },

    // Remember a QR code handed out (or given a number by the server after its upload).
    async rememberHandoff(uuid, created_at, ticket) {
      return transact(["recent"], "readwrite", async (s) => {
        s.recent.put(handoffOf(uuid, created_at, ticket));
        await trimRecent(s.recent);
      });
    },

    // The encounter in progress on this phone (or null), its photo (kept apart, so typing a
    // name does not copy the photo again), and dropping both.
    async getDraft() {
      return transact(["drafts"], "readonly", async (s) => {
        const draft = await done(s.drafts.get("capture"));
        if (!draft) return null;
        return { ...draft, photo: (await done(s.drafts.get("capture-photo"))) || null };
      });
    },

    async saveDraft(draft) {
      return transact(["drafts"], "readwrite", (s) => done(s.drafts.put(draft, "capture")));
    },

    async saveDraftPhoto(photo) {
      return transact(["drafts"], "readwrite", (s) => done(
        photo ? s.drafts.put(photo, "capture-photo") : s.drafts.delete("capture-photo")));
    },

    async clearDraft() {
      return transact(["drafts"], "readwrite", (s) => {
        s.drafts.delete("capture-photo");
        return done(s.drafts.delete("capture"));
      });
    },

    // The venue of the last encounter saved on this phone — or, on a phone that has saved none,
    // `fallback` (the server's last: {venue_type, venue, city, at}, `at` null when there is
    // none) — with `stale` true when it was used more than 12 hours ago (or at an unknown time,
    // as an older version of the app kept it): it is then offered, not assumed.
    async lastVenue(fallback) {
      const onPhone = await FieldStore.getMeta("last_venue").catch(() => null);
      const venue = onPhone ? { ...onPhone, at: onPhone.at || 0 } : fallback;
      return { ...venue, stale: venue.at !== null && Date.now() - venue.at > VENUE_FRESH_MS };
    },

    async getMeta(key) {
      return transact(["meta"], "readonly", (s) => done(s.meta.get(key)));
    },

    async setMeta(key, value) {
      return transact(["meta"], "readwrite", (s) => done(s.meta.put(value, key)));
    },

    async settings() {
      return { ...DEFAULT_SETTINGS, ...((await FieldStore.getMeta("settings")) || {}) };
    },
  };

  global.FieldStore = FieldStore;
})(self);
