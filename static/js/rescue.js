// The rescue path: every record still on this phone (data and photo) as one zip file the artist
// can keep or share, for the day the phone cannot reach the server at all. The backlog import
// (/encounters/import) takes the zip back and records each encounter once, by its UUID.
//
// The zip (STORE, UTF-8 names) holds `fieldapp-outbox.json` — {format: "fieldapp-outbox",
// version: 1, exported_at, records: [{uuid, created_at, data, photo, photo_type, ticket, state,
// error}]} — and `photos/<uuid>.<ext>`. Photos are read one at a time, never all at once.
(function (global) {
  "use strict";
  const MANIFEST = "fieldapp-outbox.json";
  const EXTENSIONS = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic", "image/heif": "heif" };

  const CRC_TABLE = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();

  function crc32(bytes) {
    let crc = 0xffffffff;
    for (let i = 0; i < bytes.length; i += 1) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  }

  function dosTime(date) {
    const time = (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2);
    const day = ((date.getFullYear() - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate();
    return { time, day };
  }

  function header(size, fill) {
    const bytes = new Uint8Array(size);
    fill(new DataView(bytes.buffer));
    return bytes;
  }

  // A zip of `entries` ([{name, data: Blob}]), stored (not compressed: photos are JPEGs already).
  async function zip(entries, date = new Date()) {
    const encoder = new TextEncoder();
    const { time, day } = dosTime(date);
    const parts = [];
    const central = [];
    let offset = 0;
    for (const entry of entries) {
      const name = encoder.encode(entry.name);
      const bytes = new Uint8Array(await entry.data.arrayBuffer());
      const crc = crc32(bytes);
      const size = bytes.length;
      const common = (view, at) => {
        view.setUint16(at, 20, true); // version needed: 2.0
        view.setUint16(at + 2, 0x0800, true); // names are UTF-8
        view.setUint16(at + 4, 0, true); // stored
        view.setUint16(at + 6, time, true);
        view.setUint16(at + 8, day, true);
        view.setUint32(at + 10, crc, true);
        view.setUint32(at + 14, size, true);
        view.setUint32(at + 18, size, true);
        view.setUint16(at + 22, name.length, true);
      };
      parts.push(header(30, (view) => { view.setUint32(0, 0x04034b50, true); common(view, 4); }), name, entry.data);
      central.push(header(46, (view) => {
        view.setUint32(0, 0x02014b50, true);
        view.setUint16(4, 20, true); // made by
        common(view, 6);
        view.setUint32(42, offset, true);
      }), name);
      offset += 30 + name.length + size;
    }
    const centralSize = central.reduce((sum, part) => sum + part.length, 0);
    const end = header(22, (view) => {
      view.setUint32(0, 0x06054b50, true);
      view.setUint16(8, entries.length, true);
      view.setUint16(10, entries.length, true);
      view.setUint32(12, centralSize, true);
      view.setUint32(16, offset, true);
    });
    return new Blob([...parts, ...central, end], { type: "application/zip" });
  }

  function extension(record) {
    const type = record.photo && record.photo.type;
    if (EXTENSIONS[type]) return EXTENSIONS[type];
    const match = /\.([a-z0-9]{2,5})$/i.exec((record.photo && record.photo.name) || "");
    return match ? match[1].toLowerCase() : "jpg";
  }

  // The zip of everything on this phone's outbox, and the file name to give it.
  async function outboxZip() {
    const records = await FieldStore.listRecords();
    const entries = [];
    const described = [];
    for (const record of records) {
      const photo = await FieldStore.getPhoto(record);
      const path = photo ? `photos/${record.uuid}.${extension(record)}` : null;
      if (photo) entries.push({ name: path, data: photo });
      described.push({
        uuid: record.uuid,
        created_at: FieldStore.localIso(new Date(record.created_at)),
        data: record.data,
        photo: path,
        photo_type: photo ? photo.type || "image/jpeg" : null,
        ticket: record.ticket ? { number: record.ticket.number, token: record.ticket.token } : null,
        state: record.state,
        error: record.error ? { status: record.error.status, message: record.error.message } : null,
      });
    }
    const now = new Date();
    const manifest = { format: "fieldapp-outbox", version: 1, exported_at: FieldStore.localIso(now), records: described };
    entries.unshift({ name: MANIFEST, data: new Blob([JSON.stringify(manifest, null, 1)], { type: "application/json" }) });
    const stamp = FieldStore.localIso(now).slice(0, 16).replace("T", "-").replace(":", "");
    return { blob: await zip(entries, now), name: `fieldapp-outbox-${stamp}.zip`, count: records.length };
  }

  global.FieldRescue = { zip, crc32, outboxZip };
})(self);
