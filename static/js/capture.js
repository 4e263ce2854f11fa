// The capture flow, one step at a time: venue → consent → time limit & timer → photo → handoff.
// The encounter, photo included, is saved in the phone's outbox before the QR code is shown, so
// the whole flow works with no network; the outbox sends it when it can (sync.js).
// Without this script the form still works: all steps in one column, posted to the server.
(() => {
  "use strict";
  const form = document.getElementById("capture");
  if (!form || !window.FieldStore) return;
  const $ = (id) => document.getElementById(id);
  const fields = form.elements;
  const steps = [...form.querySelectorAll(".step")];
  const back = form.querySelector("[data-back]");
  const handoff = $("handoff");
  const header = document.querySelector("header.site");
  const LONG_EDGE = 2016; // the server's display size: more is not needed on a weak network
  const JPEG_QUALITY = 0.92;
  let current = 0;
  let photo = null; // { blob, name } once taken
  let saving = false;

  const localIso = FieldStore.localIso;

  function show(index) {
    current = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach((step, i) => step.classList.toggle("current", i === current));
    back.hidden = current === 0;
    window.scrollTo(0, 0);
  }

  function problem(message, step) {
    const box = $("save-problem");
    box.textContent = message;
    box.hidden = !message;
    if (message && step !== undefined) show(step);
  }

  // ---- Consent: nothing can be shown or used unless the drawing is kept. ----
  const dependent = ["gallery", "training", "social"].map((name) => fields[name]);
  function syncKeep() {
    dependent.forEach((box) => {
      box.disabled = !fields.keep.checked;
      if (!fields.keep.checked) box.checked = false;
    });
    $("camera").hidden = !fields.keep.checked;
    $("not-kept").hidden = fields.keep.checked;
    if (!fields.keep.checked) $("preview").hidden = true;
    else if (photo) $("preview").hidden = false;
  }
  const named = () => form.querySelector("input[name=credit]:checked")?.value === "name";
  function syncCredit(focus) {
    $("credit-name-field").hidden = !named();
    if (focus && named()) fields.credit_name.focus();
  }
  fields.keep.addEventListener("change", syncKeep);
  form.querySelectorAll("input[name=credit]").forEach((r) => r.addEventListener("change", () => syncCredit(true)));

  // ---- Timer: tapping a limit starts it; it counts down (or up, with no limit). ----
  const clock = $("clock");
  const timer = $("timer");
  let ticking = null;
  let wakeLock = null;
  const format = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  const chosenLimit = () => {
    const value = form.querySelector("input[name=time_limit]:checked")?.value;
    return /^\d+$/.test(value || "") ? Number(value) : null;
  };

  function timerShown(running) {
    $("presets").hidden = running;
    $("timer-hint").hidden = running;
    $("timer-skip").hidden = running;
    timer.hidden = !running;
  }

  function stopTimer() {
    clearInterval(ticking);
    ticking = null;
    if (wakeLock) wakeLock.release().catch(() => {});
    wakeLock = null;
  }

  function resetTimer() {
    stopTimer();
    timer.classList.remove("time-up");
    $("time-up").hidden = true;
    timerShown(false);
  }

  async function startTimer() {
    stopTimer();
    const limit = chosenLimit();
    const began = Date.now();
    fields.drawing_started_at.value = localIso(new Date(began));
    fields.drawing_finished_at.value = "";
    timer.classList.remove("time-up");
    $("time-up").hidden = true;
    timerShown(true);
    const tick = () => {
      const elapsed = Math.floor((Date.now() - began) / 1000);
      if (limit === null) { clock.textContent = format(elapsed); return; }
      const left = Math.max(0, limit - elapsed);
      clock.textContent = format(left);
      if (left === 0 && !timer.classList.contains("time-up")) {
        timer.classList.add("time-up");
        $("time-up").hidden = false;
        if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
      }
    };
    tick();
    ticking = setInterval(tick, 250);
    try {
      wakeLock = await navigator.wakeLock.request("screen"); // the screen stays on while they draw
    } catch (_) { /* not granted or not available: the timer runs all the same */ }
  }

  form.querySelectorAll("input[name=time_limit]").forEach((radio) => radio.addEventListener("click", startTimer));
  $("timer-stop").addEventListener("click", () => {
    stopTimer();
    fields.drawing_finished_at.value = localIso();
    show(current + 1);
  });
  $("timer-cancel").addEventListener("click", () => {
    resetTimer();
    fields.drawing_started_at.value = "";
  });

  // ---- Photo: downsized on the phone unless the setting keeps originals; preview and retake. ----
  async function downsize(file) {
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      const scale = Math.min(1, LONG_EDGE / Math.max(bitmap.width, bitmap.height));
      const width = Math.round(bitmap.width * scale);
      const height = Math.round(bitmap.height * scale);
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d");
      context.fillStyle = "#fff"; // paper, where a PNG was transparent
      context.fillRect(0, 0, width, height);
      context.imageSmoothingQuality = "high";
      context.drawImage(bitmap, 0, 0, width, height);
      bitmap.close();
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
      if (!blob) throw new Error("no JPEG");
      return { blob, name: file.name.replace(/\.[^.]*$/, "") + ".jpg", width, height };
    } catch (_) {
      // A format this browser cannot draw (HEIC, mostly): send the original; the server reads it.
      return { blob: file, name: file.name };
    }
  }

  const photoInput = $("photo");
  photoInput.addEventListener("change", async () => {
    const file = photoInput.files[0];
    if (!file) return;
    problem("");
    const settings = await FieldStore.settings();
    photo = settings.full_resolution ? { blob: file, name: file.name } : await downsize(file);
    const preview = $("preview");
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.src = URL.createObjectURL(photo.blob);
    preview.hidden = false;
    $("camera").querySelector("span").textContent = "Retake photo";
    const note = $("photo-note");
    note.textContent = photo.width
      ? `Ready to send: ${photo.width} × ${photo.height} px.`
      : "Ready to send: the original file.";
    note.hidden = false;
  });

  // ---- Saving: the outbox first, then the QR code. ----
  function encounterData() {
    const limit = chosenLimit();
    return {
      status: "completed",
      venue_type: fields.venue_type.value,
      venue: fields.venue.value.trim(),
      city: fields.city.value.trim(),
      started_at: fields.started_at.value,
      drawing_started_at: fields.drawing_started_at.value || null,
      drawing_finished_at: fields.drawing_finished_at.value || null,
      time_limit_seconds: limit,
      consent: {
        version: Number(fields.consent_version.value),
        keep: fields.keep.checked,
        gallery: fields.gallery.checked,
        training: fields.training.checked,
        social: fields.social.checked,
      },
      credit: named() ? { name: fields.credit_name.value.trim() } : { anonymous: true },
      notes: fields.notes.value.trim(),
    };
  }

  function showHandoff(record) {
    const ticket = record.ticket;
    form.hidden = true;
    back.hidden = true;
    if (header) header.hidden = true;
    document.body.classList.add("handoff");
    $("handoff-ticket").hidden = !ticket;
    $("handoff-no-ticket").hidden = Boolean(ticket);
    const qr = $("handoff-qr");
    if (qr.src) URL.revokeObjectURL(qr.src);
    if (ticket) {
      $("handoff-number").textContent = `#${ticket.number}`;
      qr.alt = `QR code leading to drawing #${ticket.number}`;
      qr.src = URL.createObjectURL(new Blob([ticket.qr_svg], { type: "image/svg+xml" }));
    }
    handoff.hidden = false;
    window.scrollTo(0, 0);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (saving) return;
    const data = encounterData();
    if (named() && !data.credit.name) {
      problem("Write the name to credit, or choose to stay anonymous.", 1);
      return;
    }
    if (data.consent.keep && !photo) {
      problem("Take a photo of the drawing first: tap Open camera.");
      return;
    }
    saving = true;
    $("finish").disabled = true;
    try {
      const kept = data.consent.keep;
      const record = await FieldStore.saveNew(FieldStore.newRecord({
        uuid: fields.uuid.value,
        data,
        photo: kept ? photo.blob : null,
        photoName: kept ? photo.name : null,
      }), { withTicket: true });
      showHandoff(record);
      FieldSync.requestBackgroundSync();
      if (window.FieldApp) window.FieldApp.sync(true);
    } catch (error) {
      problem(`This phone could not save it (${error.message}). Nothing is lost yet: try again.`);
    } finally {
      saving = false;
      $("finish").disabled = false;
    }
  });

  // ---- A fresh encounter: new UUID, the time now, the last venue used on this phone. ----
  async function begin() {
    form.reset();
    photo = null;
    fields.uuid.value = crypto.randomUUID();
    fields.started_at.value = localIso();
    fields.drawing_started_at.value = "";
    fields.drawing_finished_at.value = "";
    const last = await FieldStore.getMeta("last_venue").catch(() => null);
    if (last) {
      fields.venue_type.value = last.venue_type;
      fields.venue.value = last.venue || "";
      fields.city.value = last.city || "";
    }
    $("preview").hidden = true;
    $("photo-note").hidden = true;
    $("camera").querySelector("span").textContent = "Open camera";
    problem("");
    resetTimer();
    syncKeep();
    syncCredit(false);
    handoff.hidden = true;
    form.hidden = false;
    if (header) header.hidden = false;
    document.body.classList.remove("handoff");
    show(0);
  }

  $("next-encounter").addEventListener("click", begin);
  form.querySelectorAll("[data-next]").forEach((b) => b.addEventListener("click", () => show(current + 1)));
  back.addEventListener("click", () => show(current - 1));
  document.documentElement.classList.add("js");
  form.classList.add("js");
  begin();
})();
