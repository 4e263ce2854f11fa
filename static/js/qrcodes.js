// The phone's last QR codes (kept in IndexedDB by store.js, sent or not): a list to show any of
// them again, full screen on white, with or without network. A drawer who walked off before
// scanning can be called back; the artist who tapped "Next encounter" too early loses nothing.
(() => {
  "use strict";
  if (!window.FieldStore) return;
  const $ = (id) => document.getElementById(id);
  const dialog = $("qr-dialog");
  const list = $("recent-qr-list");
  let url = null;
  let shownKey = null; // what the list shows now: redrawn only when that changes

  const when = (ms) => new Date(ms).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });

  function open(entry) {
    if (!dialog || !entry) return;
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(new Blob([entry.qr_svg], { type: "image/svg+xml" }));
    $("qr-dialog-number").textContent = `#${entry.number}`;
    const img = $("qr-dialog-img");
    img.alt = `QR code leading to drawing #${entry.number}`;
    img.src = url;
    dialog.showModal();
  }

  async function render() {
    if (!list) return;
    let recent;
    let waiting;
    try {
      recent = (await FieldStore.listRecent()).filter((entry) => entry.qr_svg);
      waiting = new Set((await FieldStore.listRecords()).map((r) => r.uuid));
    } catch (_) {
      return; // the phone's storage cannot be read: nothing to list
    }
    const key = recent.map((entry) => `${entry.uuid}:${waiting.has(entry.uuid)}`).join(",");
    if (key === shownKey) return;
    shownKey = key;
    const items = recent.map((entry) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button recent-qr-item";
      button.dataset.uuid = entry.uuid;
      const number = document.createElement("strong");
      number.textContent = `#${entry.number}`;
      const detail = document.createElement("span");
      detail.className = "muted";
      detail.textContent = `${when(entry.created_at)} · ${waiting.has(entry.uuid) ? "on this phone" : "sent"}`;
      button.append(number, detail);
      button.addEventListener("click", () => open(entry));
      item.append(button);
      return item;
    });
    list.replaceChildren(...items);
    $("recent-qr").hidden = items.length === 0;
  }

  window.FieldQR = {
    open,
    render,
    async latest() {
      try {
        return (await FieldStore.listRecent()).find((entry) => entry.qr_svg) || null;
      } catch (_) {
        return null;
      }
    },
  };
  document.addEventListener("fieldapp:status", render);
  render();
})();
