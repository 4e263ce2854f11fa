// The outbox page: what is waiting on this phone, why, and what the collector can do about it
// (edit before sending, try again, or — deliberately, after a warning — discard), a zip of all of
// it to keep or share, the last QR codes, the ticket stock and this phone's settings.
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
      return `Stuck — the server said (${record.error.status}): ${record.error.message}`;
    }
    if (record.attempts) {
      const problem = record.offline ? `${record.last_problem || "no network"}; trying again by itself` : record.last_problem || "no answer";
      return `Waiting to send (tried ${plural(record.attempts, "time", "times")}: ${problem}).`;
    }
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
      FieldStore.getPhoto(record).then((blob) => {
        if (!blob) return;
        const url = URL.createObjectURL(blob);
        urls.push(url);
        const thumb = item.querySelector(".outbox-thumb");
        thumb.src = url;
        thumb.alt = `Photo of ${title(record)}`;
        thumb.hidden = false;
        const save = item.querySelector("[data-action=save-photo]");
        save.href = url;
        save.download = record.photo.name || `${record.uuid}.jpg`;
        save.hidden = record.state !== "flagged";
      }).catch(() => {});
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

  // What is on the phone, in words: never "all sent" while anything waits.
  function summary(s) {
    const parts = [];
    if (s.waiting) parts.push(`${plural(s.waiting, "encounter", "encounters")} waiting to send`);
    if (s.flagged) parts.push(`${plural(s.flagged, "is", "are")} stuck and need${s.flagged === 1 ? "s" : ""} you`);
    if (!parts.length) return "All sent: everything made on this phone has reached the server.";
    let text = `${parts.join(", ")}.`;
    if (s.sending) text += " Sending now…";
    else if (s.waiting && s.login) text += " Log in to send.";
    else if (s.waiting && s.offline) text += " No network right now: the phone keeps trying by itself.";
    return text;
  }

  // The list is drawn again only when what it shows has changed: the status comes every few
  // seconds, and each drawing reads every photo back from the phone's storage.
  let shownKey = null;
  const listKey = (records) => JSON.stringify(records.map((r) => [
    r.uuid, r.revision, r.state, r.attempts, r.last_problem, r.offline, r.photo && r.photo.size,
  ]));

  async function render(detail) {
    const s = detail || await FieldSync.state();
    $("outbox-summary").textContent = summary(s);
    const last = s.last;
    $("outbox-last-sync").textContent = last
      ? `Last try ${new Date(last.at).toLocaleTimeString([], { timeStyle: "short" })}: ${last.message}`
      : "No sync yet on this phone.";
    $("send-now").hidden = s.waiting === 0;
    $("send-now").disabled = s.sending;
    const key = listKey(s.records);
    if (key !== shownKey) {
      shownKey = key;
      urls.splice(0).forEach((url) => URL.revokeObjectURL(url));
      list.replaceChildren(...s.records.map(renderItem));
    }
    $("rescue").hidden = s.records.length === 0;
    const tickets = await FieldStore.listTickets();
    $("ticket-stock").textContent = tickets.length
      ? `${plural(tickets.length, "ticket", "tickets")} ready: #${tickets[0].number} to #${tickets[tickets.length - 1].number}. ` +
        "A new encounter takes the next one, with or without network."
      : "No tickets on this phone: offline, a drawing gets its number only when it reaches the server.";
  }

  // The upload of one record moving: its own progress bar.
  FieldSync.listen((message) => {
    if (!message || message.type !== "progress") return;
    const bar = list.querySelector(`[data-uuid="${message.uuid}"] .outbox-progress`);
    if (bar) { bar.hidden = false; bar.value = message.share; }
  });

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
      if (!data.consent || !data.consent.keep) r.photo = null;
      r.revision = (r.revision || 1) + 1;
      r.state = "queued";
      r.error = null;
      r.attempts = 0;
      r.next_try_at = 0;
    });
    editDialog.close();
    if (!saved) alert("It was sent meanwhile: edit it on the server, from the log.");
    FieldSync.announce();
    sendNow();
  });

  // ---- Actions on one record. ----
  list.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || button.tagName === "A") return;
    const uuid = button.closest("[data-uuid]").dataset.uuid;
    const record = await FieldStore.getRecord(uuid);
    if (!record) { FieldSync.announce(); return; }
    const action = button.dataset.action;
    if (action === "edit") openEditor(record);
    if (action === "retry") {
      await FieldStore.updateRecord(uuid, (r) => { r.state = "queued"; r.error = null; r.next_try_at = 0; });
      FieldSync.announce();
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
    }
  }
  $("send-now").addEventListener("click", sendNow);

  // ---- The rescue zip: everything on the phone, to keep or share. ----
  let rescued = null;
  async function rescueZip() {
    $("rescue-note").textContent = "Packing…";
    rescued = await FieldRescue.outboxZip();
    const size = (rescued.blob.size / 1048576).toFixed(1);
    $("rescue-note").textContent = `${rescued.name}: ${plural(rescued.count, "encounter", "encounters")}, ${size} MB.`;
    return new File([rescued.blob], rescued.name, { type: "application/zip" });
  }
  $("rescue-save").addEventListener("click", async () => {
    let file;
    try {
      file = await rescueZip();
    } catch (error) {
      $("rescue-note").textContent = `Could not pack it: ${error.message}`;
      return;
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(file);
    link.download = file.name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  });
  const canShareFiles = () => {
    try {
      return Boolean(navigator.canShare && navigator.canShare({ files: [new File(["x"], "x.zip", { type: "application/zip" })] }));
    } catch (_) {
      return false;
    }
  };
  $("rescue-share").hidden = !canShareFiles();
  $("rescue-share").addEventListener("click", async () => {
    try {
      await navigator.share({ files: [await rescueZip()], title: "fieldapp outbox" });
    } catch (error) {
      if (error.name !== "AbortError") $("rescue-note").textContent = `Not shared: ${error.message}`;
    }
  });

  $("refill").addEventListener("click", async () => {
    try {
      await FieldSync.refillTickets();
    } catch (error) {
      $("ticket-stock").textContent = `Could not refill: ${error.message}`;
      return;
    }
    FieldSync.announce();
  });

  // ---- This phone's settings. ----
  async function loadSettings() {
    const settings = await FieldStore.settings();
    $("setting-full-resolution").checked = settings.full_resolution;
    $("setting-ticket-stock").value = String(settings.ticket_stock);
    const persisted = navigator.storage && navigator.storage.persisted ? await navigator.storage.persisted().catch(() => false) : false;
    const installed = window.FieldApp && window.FieldApp.standalone;
    $("storage-state").textContent = persisted
      ? "Storage: persistent — the browser will not clear the outbox to free space."
      : installed
        ? "Storage: not marked persistent, but the app runs from the home screen, where it is kept."
        : "Storage: not persistent — in a browser tab the phone may clear it after 7 days without a visit. Add the app to the home screen.";
  }
  async function saveSetting(change) {
    await FieldStore.setMeta("settings", { ...(await FieldStore.settings()), ...change });
  }
  $("setting-full-resolution").addEventListener("change", (e) => saveSetting({ full_resolution: e.target.checked }));
  $("setting-ticket-stock").addEventListener("change", async (e) => {
    await saveSetting({ ticket_stock: Number(e.target.value) });
    $("refill").click();
  });

  document.addEventListener("fieldapp:status", (event) => render(event.detail));
  loadSettings();
  render();
})();
