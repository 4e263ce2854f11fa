// The outbox page: what is waiting on this phone, why, and what the collector can do about it
// (edit before sending, try again, or — deliberately, after a warning — discard). Also the ticket
// stock and this phone's settings.
(() => {
  "use strict";
  const list = document.getElementById("outbox-list");
  if (!list || !window.FieldStore) return;
  const $ = (id) => document.getElementById(id);
  const itemTemplate = $("outbox-item");
  const editDialog = $("edit-dialog");
  const editForm = $("edit-form");
  const discardDialog = $("discard-dialog");
  const urls = [];

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const title = (r) => (r.data.status === "declined" ? "Declined approach"
    : r.ticket ? `#${r.ticket.number}` : "Drawing (number on arrival)");
  const when = (r) => new Date(r.created_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

  function describeState(record) {
    if (record.state === "flagged") {
      return `Needs you — the server said (${record.error.status}): ${record.error.message}`;
    }
    if (record.attempts) return `Waiting to send (tried ${plural(record.attempts, "time", "times")}: ${record.last_problem || "no answer"}).`;
    return "Waiting to send.";
  }

  function renderItem(record) {
    const item = itemTemplate.content.firstElementChild.cloneNode(true);
    item.dataset.uuid = record.uuid;
    item.dataset.state = record.state;
    const field = (name) => item.querySelector(`[data-field=${name}]`);
    field("title").textContent = title(record);
    field("when").textContent = when(record);
    field("venue").textContent = [record.data.venue_type, record.data.venue, record.data.city].filter(Boolean).join(", ");
    field("state").textContent = describeState(record);
    if (record.photo) {
      const url = URL.createObjectURL(record.photo);
      urls.push(url);
      const thumb = item.querySelector(".outbox-thumb");
      thumb.src = url;
      thumb.alt = `Photo of ${title(record)}`;
      thumb.hidden = false;
      const save = item.querySelector("[data-action=save-photo]");
      save.href = url;
      save.download = record.photo_name || `${record.uuid}.jpg`;
      save.hidden = record.state !== "flagged";
    }
    const errors = (record.error && record.error.errors) || [];
    if (errors.length) {
      const ul = field("errors");
      errors.forEach((e) => {
        const li = document.createElement("li");
        li.textContent = `${e.field}: ${e.message}`;
        ul.append(li);
      });
      ul.hidden = false;
    }
    item.querySelector("[data-action=retry]").hidden = record.state !== "flagged";
    item.querySelector("[data-action=discard]").hidden = record.state !== "flagged";
    return item;
  }

  async function render() {
    urls.splice(0).forEach((url) => URL.revokeObjectURL(url));
    const records = await FieldStore.listRecords();
    const waiting = records.filter((r) => r.state === "queued").length;
    const flagged = records.filter((r) => r.state === "flagged").length;
    const parts = [];
    if (waiting) parts.push(`${plural(waiting, "encounter", "encounters")} waiting to send`);
    if (flagged) parts.push(`${flagged} need${flagged === 1 ? "s" : ""} your attention`);
    $("outbox-summary").textContent = records.length
      ? `${parts.join(", ")}.`
      : "Nothing waiting: everything made on this phone has reached the server.";
    const last = await FieldStore.getMeta("last_sync");
    $("outbox-last-sync").textContent = last
      ? `Last sync ${new Date(last.at).toLocaleTimeString([], { timeStyle: "short" })}: ${last.message}`
      : "No sync yet on this phone.";
    list.replaceChildren(...records.map(renderItem));
    const tickets = await FieldStore.listTickets();
    $("ticket-stock").textContent = tickets.length
      ? `${plural(tickets.length, "ticket", "tickets")} ready: #${tickets[0].number} to #${tickets[tickets.length - 1].number}. ` +
        "A new encounter takes the next one, with or without network."
      : "No tickets on this phone: offline, a drawing gets its number only when it reaches the server.";
  }

  // ---- Editing a record that has not been sent yet. ----
  let editing = null;

  function openEditor(record) {
    editing = record;
    const d = record.data;
    const f = editForm.elements;
    f.venue_type.value = d.venue_type;
    f.venue.value = d.venue || "";
    f.city.value = d.city || "";
    const completed = d.status === "completed";
    editForm.querySelector("[data-completed-only]").hidden = !completed;
    if (completed) {
      f.time_limit.value = d.time_limit_seconds ? String(d.time_limit_seconds) : "none";
      ["keep", "gallery", "training", "social"].forEach((name) => { f[name].checked = d.consent[name]; });
      f.credit.value = d.credit && d.credit.name !== undefined ? "name" : "anonymous";
      f.credit_name.value = (d.credit && d.credit.name) || "";
      f.notes.value = d.notes || "";
    }
    $("edit-problem").hidden = true;
    editDialog.showModal();
  }

  function editedData(record) {
    const f = editForm.elements;
    const data = { ...record.data, venue_type: f.venue_type.value, venue: f.venue.value.trim(), city: f.city.value.trim() };
    if (data.status !== "completed") return data;
    const keep = f.keep.checked;
    const limit = f.time_limit.value;
    return {
      ...data,
      time_limit_seconds: /^\d+$/.test(limit) ? Number(limit) : null,
      consent: {
        ...data.consent,
        keep,
        gallery: keep && f.gallery.checked,
        training: keep && f.training.checked,
        social: keep && f.social.checked,
      },
      credit: f.credit.value === "name" ? { name: f.credit_name.value.trim() } : { anonymous: true },
      notes: f.notes.value.trim(),
    };
  }

  editForm.addEventListener("submit", async (event) => {
    if (event.submitter && event.submitter.value !== "save") return;
    event.preventDefault();
    const data = editedData(editing);
    if (data.credit && data.credit.name === "") {
      $("edit-problem").textContent = "Write the name to credit, or choose anonymous.";
      $("edit-problem").hidden = false;
      return;
    }
    const saved = await FieldStore.updateRecord(editing.uuid, (r) => {
      r.data = data;
      if (!data.consent || !data.consent.keep) { r.photo = null; r.photo_name = null; }
      r.revision = (r.revision || 1) + 1;
      r.state = "queued";
      r.error = null;
      r.attempts = 0;
      r.next_try_at = 0;
    });
    editDialog.close();
    if (!saved) alert("It was sent meanwhile: edit it on the server, from the log.");
    await render();
    sendNow();
  });

  // ---- Actions on one record. ----
  list.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || button.tagName === "A") return;
    const uuid = button.closest("[data-uuid]").dataset.uuid;
    const record = await FieldStore.getRecord(uuid);
    if (!record) { await render(); return; }
    const action = button.dataset.action;
    if (action === "edit") openEditor(record);
    if (action === "retry") {
      await FieldStore.updateRecord(uuid, (r) => { r.state = "queued"; r.error = null; r.next_try_at = 0; });
      await render();
      sendNow();
    }
    if (action === "discard") {
      $("discard-what").textContent = title(record);
      discardDialog.returnValue = "";
      discardDialog.showModal();
      discardDialog.addEventListener("close", async () => {
        if (discardDialog.returnValue === "discard") {
          await FieldStore.removeRecord(uuid);
          FieldSync.announce();
          await render();
        }
      }, { once: true });
    }
  });

  async function sendNow() {
    $("send-now").disabled = true;
    try {
      await window.FieldApp.sync(true);
    } finally {
      $("send-now").disabled = false;
      await render();
    }
  }
  $("send-now").addEventListener("click", sendNow);

  $("refill").addEventListener("click", async () => {
    try {
      await FieldSync.refillTickets();
    } catch (error) {
      $("ticket-stock").textContent = `Could not refill: ${error.message}`;
      return;
    }
    await render();
  });

  // ---- This phone's settings. ----
  async function loadSettings() {
    const settings = await FieldStore.settings();
    $("setting-full-resolution").checked = settings.full_resolution;
    $("setting-ticket-stock").value = String(settings.ticket_stock);
    const persisted = navigator.storage && navigator.storage.persisted ? await navigator.storage.persisted() : false;
    $("storage-state").textContent = persisted
      ? "Storage: persistent — the browser will not clear the outbox to free space."
      : "Storage: not marked persistent — installing the app to the home screen usually fixes that.";
  }
  async function saveSetting(change) {
    await FieldStore.setMeta("settings", { ...(await FieldStore.settings()), ...change });
  }
  $("setting-full-resolution").addEventListener("change", (e) => saveSetting({ full_resolution: e.target.checked }));
  $("setting-ticket-stock").addEventListener("change", async (e) => {
    await saveSetting({ ticket_stock: Number(e.target.value) });
    $("refill").click();
  });

  document.addEventListener("fieldapp:status", render);
  loadSettings();
  render();
})();
