// The phone's own records, in IndexedDB: the outbox of encounters, the ticket stock, settings.
// Loaded by the pages and by the service worker (importScripts): no DOM, no modules.
//
// An outbox record: { uuid, created_at, revision, data (the API's `data` JSON), photo (Blob or
// null), photo_name, ticket ({number, token, participant_url, qr_svg} or null), state ("queued" |
// "flagged"), attempts, next_try_at, error ({status, message, errors} or null) }.
(function (global) {
  "use strict";
  const DB_NAME = "fieldapp";
  const DB_VERSION = 1;
  const DEFAULT_SETTINGS = { full_resolution: false, ticket_stock: 10 };
  let opening = null;

  function open() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, DB_VERSION);
        request.onupgradeneeded = () => {
          const db = request.result;
          db.createObjectStore("outbox", { keyPath: "uuid" }).createIndex("created_at", "created_at");
          db.createObjectStore("tickets", { keyPath: "number" });
          db.createObjectStore("meta");
        };
        request.onsuccess = () => {
          const db = request.result;
          db.onversionchange = () => { db.close(); opening = null; };
          resolve(db);
        };
        request.onerror = () => { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  const done = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

  // Run `work(stores)` in one transaction. Resolves with its result only once the transaction has
  // committed to disk ("strict" durability), so a caller may show the QR code after it.
  async function transact(names, mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(names, mode, { durability: "strict" });
      const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
      let result;
      Promise.resolve()
        .then(() => work(stores))
        .then((value) => { result = value; }, (error) => { reject(error); try { tx.abort(); } catch (_) { /* done */ } });
      tx.oncomplete = () => resolve(result);
      tx.onabort = () => reject(tx.error || new Error("The phone's storage refused the change."));
    });
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

  // A record for the outbox, waiting to be sent.
  function newRecord({ uuid = crypto.randomUUID(), data, photo = null, photoName = null }) {
    return {
      uuid, created_at: Date.now(), revision: 1, data, photo, photo_name: photoName,
      ticket: null, state: "queued", attempts: 0, next_try_at: 0, error: null,
    };
  }

  const FieldStore = {
    DEFAULT_SETTINGS,
    localIso,
    newRecord,

    async listRecords() {
      return transact(["outbox"], "readonly", (s) => done(s.outbox.index("created_at").getAll()));
    },

    async getRecord(uuid) {
      return transact(["outbox"], "readonly", (s) => done(s.outbox.get(uuid)));
    },

    // A new encounter, with the next ticket from the stock when it takes one (`withTicket`),
    // and the venue remembered for the next one: one transaction, so nothing half-saved.
    async saveNew(record, { withTicket }) {
      return transact(["outbox", "tickets", "meta"], "readwrite", async (s) => {
        record.ticket = null;
        if (withTicket) {
          const stock = (await done(s.tickets.getAll())).filter((t) => t.qr_svg).sort(byNumber);
          if (stock.length) {
            record.ticket = stock[0];
            record.data.ticket = stock[0].token;
            s.tickets.delete(stock[0].number);
          }
        }
        const { venue_type, venue, city } = record.data;
        s.meta.put({ venue_type, venue, city }, "last_venue");
        await done(s.outbox.add(record));
        return record;
      });
    },

    // Change a waiting record with `change(record)`; resolves with it, or null if it has gone.
    async updateRecord(uuid, change) {
      return transact(["outbox"], "readwrite", async (s) => {
        const record = await done(s.outbox.get(uuid));
        if (!record) return null;
        change(record);
        await done(s.outbox.put(record));
        return record;
      });
    },

    // Remove a record the server has confirmed, unless it was edited since it was sent.
    async removeRecord(uuid, revision) {
      return transact(["outbox"], "readwrite", async (s) => {
        const record = await done(s.outbox.get(uuid));
        if (!record || (revision !== undefined && record.revision !== revision)) return false;
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
