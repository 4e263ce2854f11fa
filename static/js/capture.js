// The capture flow, one step at a time: venue → consent → time limit & timer → photo → handoff.
//
// - The encounter in progress is a draft on the phone from its first change: a reload, a crash
//   or a stray navigation brings it back at its step, choices, name, timer and photo included.
// - From the consent step until the drawer taps "Done: back to the artist" the screen shows only
//   the consent and the choices (stranger mode): no header, no way out, the back gesture stays.
// - Leaving the flow with anything entered asks first (in the app, and on beforeunload).
// - The encounter, photo included, is saved in the phone's outbox before its QR code is shown,
//   so the whole flow works with no network. If the phone's storage refuses it, it is sent to
//   the server directly and its QR shown once the server confirms.
// Without this script the form still works: all steps in one column, posted to the server.
(() => {
  "use strict";
  const form = document.getElementById("capture");
  if (!form || !window.FieldStore) return;
  const $ = (id) => document.getElementById(id);
  const fields = form.elements;
  const steps = [...form.querySelectorAll(".step")];
  const STEP = { venue: 0, consent: 1, timer: 2, photo: 3 };
  const back = form.querySelector("[data-back]");
  const handoff = $("handoff");
  const header = document.querySelector("header.site");
  const LONG_EDGE = 2016; // the server's display size: more is not needed on a weak network
  const JPEG_QUALITY = 0.92;
  const FRESH_MS = 12 * 60 * 60 * 1000; // a draft older than this is offered, not resumed
  const DRAFT_DELAY_MS = 300;
  const VALUES = ["uuid", "started_at", "venue_type", "venue", "city", "credit_name",
    "drawing_started_at", "drawing_finished_at", "notes", "consent_language"];
  // The drawer's answers (radio groups): none is given for them.
  const ANSWERS = ["age_group", "keep", "gallery", "training", "social", "credit"];
  const USES = ["gallery", "training", "social"];
  const TEXTS = JSON.parse($("consent-step").dataset.texts); // every language of the consent version
  const pageConsentVersion = fields.consent_version.value;
  let current = 0;
  let photo = null; // { buffer, type, name, width, height } once taken
  let previewUrl = null;
  let dirty = false; // something was entered: the draft exists and leaving asks first
  let handedOver = false;
  let saving = false;
  let draftTimer = null;
  let lastVenue = null;

  const localIso = FieldStore.localIso;
  const describeVenue = (v) => [v.venue_type, v.venue, v.city].filter(Boolean).join(", ");
  const trapped = () => current === STEP.consent || handedOver;

  function when(ms) {
    const hours = (Date.now() - ms) / 3600000;
    const clock = new Date(ms).toLocaleString([], { weekday: "long", hour: "2-digit", minute: "2-digit" });
    if (hours < 24) return `${clock} (${Math.max(1, Math.round(hours))} h ago)`;
    return `${clock} (${Math.round(hours / 24)} day${Math.round(hours / 24) === 1 ? "" : "s"} ago)`;
  }

  // ---- Steps, stranger mode and the back gesture. ----
  function show(index) {
    current = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach((step, i) => step.classList.toggle("current", i === current));
    const stranger = current === STEP.consent;
    document.body.classList.toggle("stranger", stranger);
    if (header) header.hidden = stranger;
    back.hidden = current === 0 || stranger;
    $("discard").hidden = stranger || !dirty;
    window.scrollTo(0, 0);
    if (current > 0) {
      markDirty();
      saveDraftNow(); // a new step is kept at once, not after the typing delay
    }
  }

  // One history entry of our own (pushed after the first tap, as browsers want) turns the back
  // gesture into "previous step"; on the consent step and the QR it does nothing at all.
  let guarded = false;
  function guard() {
    history.pushState({ guard: true }, "");
    guarded = true;
  }
  window.addEventListener("popstate", () => {
    if (!guarded) return;
    if (trapped()) { guard(); return; }
    if (current > 0) { show(current - 1); guard(); return; }
    guarded = false;
    history.back(); // from the first step, back leaves (asking first if anything was entered)
  });
  document.addEventListener("pointerdown", () => { if (!guarded) guard(); }, { once: true });

  function problem(message) {
    const box = $("save-problem");
    box.textContent = message;
    box.hidden = !message;
  }

  // ---- The draft: kept on the phone from the first change until saved or discarded. ----
  function markDirty() {
    if (handedOver) return;
    dirty = true;
    $("discard").hidden = current === STEP.consent;
    saveDraftSoon();
  }

  function draftValues() {
    const values = Object.fromEntries(VALUES.map((name) => [name, fields[name].value]));
    ANSWERS.forEach((name) => { values[name] = answer(name); });
    values.time_limit = form.querySelector("input[name=time_limit]:checked")?.value || "";
    return values;
  }

  async function saveDraftNow() {
    clearTimeout(draftTimer);
    draftTimer = null;
    if (!dirty || handedOver) return;
    try {
      await FieldStore.saveDraft({
        saved_at: Date.now(), step: current, consent_version: fields.consent_version.value, values: draftValues(),
      });
    } catch (_) { /* storage refused: the form itself still holds everything */ }
  }

  function saveDraftSoon() {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(saveDraftNow, DRAFT_DELAY_MS);
  }

  form.addEventListener("input", markDirty); // typing: kept DRAFT_DELAY_MS after the last key
  form.addEventListener("change", () => { markDirty(); saveDraftNow(); }); // a choice: at once
  // No save on pagehide or beforeunload: a transaction begun by a page being put away can be
  // left unfinished (WebKit keeps such pages suspended) and block the next page's storage.
  // A change is saved DRAFT_DELAY_MS after it, and at once before an in-app exit.
  window.FieldApp && (window.FieldApp.draftInProgress = () => dirty && !handedOver);

  function restore(draft) {
    const v = draft.values;
    const past = draft.step > STEP.consent;
    VALUES.forEach((name) => { fields[name].value = v[name] || ""; });
    ANSWERS.forEach((name) => {
      let value = v[name];
      // A draft begun before answers were yes/no: a box the drawer left was their "no" once
      // they were past the consent step; before it, nothing counts as answered.
      if (typeof value === "boolean") value = value ? "yes" : past ? "no" : "";
      if (name === "age_group" && !value && past) value = "adult"; // asked only since then
      if (name === "credit") value = value || "anonymous";
      setAnswer(name, value || "");
    });
    form.querySelectorAll("input[name=time_limit]").forEach((r) => { r.checked = r.value === v.time_limit; });
    // Past the consent step, the drawer agreed to the text of the page they saw then.
    fields.consent_version.value = past ? draft.consent_version : pageConsentVersion;
    speak(v.consent_language || pageLanguage);
    if (draft.photo) {
      showPhoto(draft.photo);
      if (!draft.photo.width) resumeCopy();
    }
    syncAnswers();
    ageAsked(Boolean(answer("age_group")));
    if (v.drawing_started_at && !v.drawing_finished_at) {
      startTimer(Date.parse(v.drawing_started_at)); // the clock kept running while the page was away
    }
    dirty = true;
    show(draft.step);
  }

  async function discard() {
    clearTimeout(draftTimer);
    dirty = false;
    try {
      await FieldStore.clearDraft();
    } catch (_) { /* nothing was stored */ }
    await begin();
  }

  $("discard").addEventListener("click", () => {
    const dialog = $("discard-dialog");
    dialog.returnValue = "";
    dialog.showModal();
  });
  $("discard-dialog").addEventListener("close", () => {
    if ($("discard-dialog").returnValue === "discard") discard();
  });

  // ---- Leaving with something entered asks first. ----
  let leavingTo = null;
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || !dirty || handedOver || (window.FieldApp && window.FieldApp.leaving)) return;
    if (link.target || link.hasAttribute("download") || event.defaultPrevented) return;
    event.preventDefault();
    leavingTo = link.href;
    const dialog = $("leave-dialog");
    dialog.returnValue = "";
    dialog.showModal();
  }, true);
  $("leave-dialog").addEventListener("close", async () => {
    if ($("leave-dialog").returnValue !== "leave" || !leavingTo) return;
    await saveDraftNow();
    if (window.FieldApp) window.FieldApp.leaving = true;
    window.location.href = leavingTo;
  });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty || handedOver || (window.FieldApp && window.FieldApp.leaving)) return;
    event.preventDefault();
    event.returnValue = ""; // the browser asks "Leave site?"; the draft is kept either way
  });

  // ---- Venue: the last one is assumed for 12 hours, then offered. ----
  function fillVenue(v) {
    fields.venue_type.value = v.venue_type || "bar";
    fields.venue.value = v.venue || "";
    fields.city.value = v.city || "";
  }

  function offerVenue(v) {
    $("venue-offer-place").textContent = describeVenue(v);
    $("venue-offer-age").textContent = v.at ? when(v.at) : "some time ago";
    $("venue-offer").hidden = false;
    $("venue-fields").hidden = true;
  }

  function closeVenueOffer() {
    $("venue-offer").hidden = true;
    $("venue-fields").hidden = false;
  }

  $("venue-keep").addEventListener("click", () => {
    fillVenue(lastVenue);
    closeVenueOffer();
    show(STEP.consent); // keeping it is the confirmation
  });
  $("venue-change").addEventListener("click", () => {
    fillVenue({ venue_type: lastVenue.venue_type });
    closeVenueOffer();
    markDirty();
    fields.venue.focus();
  });

  // ---- Consent: the drawer's language, their age group first, then each choice answered by
  // their own tap. Nothing can be shown or used unless the drawing is kept; a minor's drawing
  // is never trained on, posted or credited by name (the server refuses it too). ----
  const answer = (name) => form.querySelector(`input[name=${name}]:checked`)?.value || "";
  function setAnswer(name, value) {
    form.querySelectorAll(`input[name=${name}]`).forEach((r) => { r.checked = r.value === value; });
  }
  const kept = () => answer("keep") === "yes";
  const minor = () => answer("age_group") === "minor";
  const named = () => answer("credit") === "name";
  const pageLanguage = fields.consent_language.value;
  let language = pageLanguage;
  const words = () => TEXTS[language].words;

  // Every word of the step in `code` (a language the consent version has).
  function speak(code) {
    if (!TEXTS[code]) code = pageLanguage;
    language = code;
    fields.consent_language.value = code;
    const text = TEXTS[code];
    const step = form.querySelector("[data-step=consent]");
    step.lang = code;
    step.querySelectorAll("[data-word]").forEach((el) => { el.textContent = text.words[el.dataset.word]; });
    step.querySelectorAll("[data-choice-label]").forEach((el) => { el.textContent = text.choices[el.dataset.choiceLabel].label; });
    step.querySelectorAll("[data-choice-line]").forEach((el) => { el.textContent = text.choices[el.dataset.choiceLine].line; });
    $("consent-summary").textContent = text.summary || text.paragraphs[0] || "";
    const paragraphs = $("consent-paragraphs");
    paragraphs.replaceChildren(...text.paragraphs.map((p) => Object.assign(document.createElement("p"), { textContent: p })));
    $("consent-sha").textContent = text.sha256.slice(0, 12);
    step.querySelectorAll("button.lang").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === code)));
    if (!$("consent-problem").hidden) checkAnswers();
    syncAnswers();
  }
  form.querySelectorAll("button.lang").forEach((b) => b.addEventListener("click", () => {
    speak(b.dataset.lang);
    markDirty();
    saveDraftNow();
  }));

  // The age question comes first, alone; once answered, the choices, with the answer on top.
  function ageAsked(answered) {
    $("consent-age").hidden = answered;
    $("consent-choices").hidden = !answered;
  }
  // "click", not "change": tapping the answer already chosen (after "Change") goes on too.
  form.querySelectorAll("input[name=age_group]").forEach((r) => r.addEventListener("click", () => {
    syncAnswers();
    ageAsked(true);
    window.scrollTo(0, 0);
  }));
  $("age-change").addEventListener("click", () => ageAsked(false));

  // A choice that cannot be "yes" is answered "no" for the drawer, disabled, and says why; when
  // it can be again (the drawing is kept after all, an adult after all), that answer, which
  // was not theirs, is taken back: they answer it themselves.
  function limit(name, reason) {
    const set = form.querySelector(`[data-choice=${name}]`);
    const why = $(`why-not-${name}`);
    const refusedValue = name === "credit" ? "name" : "yes";
    set.querySelectorAll("input").forEach((input) => { input.disabled = Boolean(reason) && input.value === refusedValue; });
    if (reason && answer(name) !== (name === "credit" ? "anonymous" : "no")) {
      setAnswer(name, name === "credit" ? "anonymous" : "no");
      if (name !== "credit") set.dataset.auto = "yes";
      if (name === "credit") syncCredit(false);
    } else if (!reason && set.dataset.auto) {
      setAnswer(name, "");
    }
    if (!reason) delete set.dataset.auto;
    set.classList.toggle("limited", Boolean(reason));
    why.textContent = reason || "";
    why.hidden = !reason;
  }

  function syncAnswers() {
    const w = words();
    USES.forEach((name) => {
      let reason = "";
      if (answer("keep") === "no") reason = w.not_kept;
      else if (minor() && name !== "gallery") reason = w.minor_never;
      limit(name, reason);
    });
    limit("credit", minor() ? w.minor_anonymous : "");
    const galleryNote = $("why-not-gallery");
    if (minor() && answer("keep") !== "no") {
      galleryNote.textContent = w.minor_gallery;
      galleryNote.hidden = false;
    }
    $("age-shown-text").textContent = minor() ? w.age_shown_minor : w.age_shown_adult;
    $("not-kept").hidden = answer("keep") !== "no";
    $("photo-stage").classList.toggle("not-kept", answer("keep") === "no");
    syncPhotoStage();
    syncCredit(false);
  }
  function syncCredit(focus) {
    $("credit-name-field").hidden = !named();
    if (focus && named()) fields.credit_name.focus();
  }
  ["keep", ...USES].forEach((name) =>
    form.querySelectorAll(`input[name=${name}]`).forEach((r) => r.addEventListener("change", () => {
      const set = form.querySelector(`[data-choice=${name}]`);
      set.classList.remove("unanswered");
      delete set.dataset.auto; // the drawer's own answer now
      syncAnswers();
      if (!$("consent-problem").hidden) checkAnswers();
    })));
  form.querySelectorAll("input[name=credit]").forEach((r) => r.addEventListener("change", () => syncCredit(true)));

  // "Done" only once every question has the drawer's own answer; else it says what is missing.
  function checkAnswers() {
    const missing = ["keep", ...USES].filter((name) => !answer(name));
    form.querySelectorAll("[data-choice]").forEach((set) => set.classList.toggle("unanswered", missing.includes(set.dataset.choice)));
    let message = missing.length ? words().unanswered : "";
    if (!message && named() && !fields.credit_name.value.trim()) message = words().no_name;
    const box = $("consent-problem");
    box.textContent = message;
    box.hidden = !message;
    return !message;
  }
  $("consent-done").addEventListener("click", () => {
    if (!answer("age_group")) { ageAsked(false); return; }
    if (!checkAnswers()) {
      const first = form.querySelector("[data-choice].unanswered");
      if (first) first.scrollIntoView({ block: "center" });
      else syncCredit(true);
      return;
    }
    show(STEP.timer);
  });

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

  async function startTimer(began = Date.now()) {
    stopTimer();
    const limit = chosenLimit();
    fields.drawing_started_at.value = localIso(new Date(began));
    fields.drawing_finished_at.value = "";
    timer.classList.remove("time-up");
    $("time-up").hidden = true;
    timerShown(true);
    let buzzed = Date.now() - began > (limit || Infinity) * 1000; // a restored clock already past its end
    const tick = () => {
      const elapsed = Math.floor((Date.now() - began) / 1000);
      if (limit === null) { clock.textContent = format(elapsed); return; }
      const left = Math.max(0, limit - elapsed);
      clock.textContent = format(left);
      if (left === 0 && !timer.classList.contains("time-up")) {
        timer.classList.add("time-up");
        $("time-up").hidden = false;
        if (!buzzed && navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
        buzzed = true;
      }
    };
    tick();
    ticking = setInterval(tick, 250);
    try {
      wakeLock = await navigator.wakeLock.request("screen"); // the screen stays on while they draw
    } catch (_) { /* not granted or not available: the timer runs all the same */ }
  }

  form.querySelectorAll("input[name=time_limit]").forEach((radio) => radio.addEventListener("click", () => {
    startTimer();
    markDirty();
    saveDraftNow(); // the clock's start survives a reload
  }));
  $("timer-stop").addEventListener("click", () => {
    stopTimer();
    fields.drawing_finished_at.value = localIso();
    show(current + 1);
  });
  $("timer-cancel").addEventListener("click", () => {
    resetTimer();
    fields.drawing_started_at.value = "";
    markDirty();
    saveDraftNow();
  });

  // ---- Photo: shown and kept at once as taken, while a copy at most LONG_EDGE px is made for
  // sending (in a worker where the engine has one); the copy takes the original's place when
  // ready — in the outbox too, if the encounter was saved first, as long as no upload has begun.
  // So "Show the QR code" never waits for the phone to shrink a 12-megapixel photo. Once taken,
  // the preview takes the camera button's place and "Retake photo" moves below "Show the QR
  // code", so a second tap never retakes it. ----
  let photoSerial = 0; // which photo a finished copy belongs to
  let preparing = null; // the copy being made for the current photo: a promise of it, or null
  let worker = null;
  let workerJobs = 0;

  // The photo's upright size, from the image's header: no full decode.
  async function uprightSize(file) {
    const url = URL.createObjectURL(file);
    try {
      const image = new Image();
      const loaded = new Promise((resolve, reject) => {
        image.onload = resolve;
        image.onerror = () => reject(new Error("unreadable"));
      });
      image.src = url;
      await loaded;
      return [image.naturalWidth, image.naturalHeight];
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  function inWorker(file, width, height) {
    if (!window.Worker || !window.OffscreenCanvas || !form.dataset.downsizeWorker) return null;
    worker = worker || new Worker(form.dataset.downsizeWorker);
    const job = ++workerJobs;
    return new Promise((resolve, reject) => {
      const answer = (event) => {
        if (event.data.job !== job) return;
        worker.removeEventListener("message", answer);
        if (event.data.blob) resolve(event.data.blob);
        else reject(new Error(event.data.error));
      };
      worker.addEventListener("message", answer);
      worker.postMessage({ job, file, width, height, quality: JPEG_QUALITY });
    });
  }

  // The copy for sending ({buffer, type, name, width, height}), or null when the photo as taken
  // is what is sent: already small, or a format this browser cannot draw (HEIC, mostly: the
  // server reads it).
  async function lighterCopy(file) {
    let size;
    try {
      size = await uprightSize(file);
    } catch (_) {
      return null;
    }
    const scale = Math.min(1, LONG_EDGE / Math.max(...size));
    if (scale === 1 && file.type === "image/jpeg") return null;
    const [width, height] = size.map((edge) => Math.round(edge * scale));
    const onThisThread = () => window.FieldPhotoCopy.lighterJpeg(file, width, height, JPEG_QUALITY);
    let blob;
    try {
      blob = await (inWorker(file, width, height) || onThisThread());
    } catch (_) {
      try {
        blob = await onThisThread(); // the worker failed: once more here
      } catch (_) {
        return null;
      }
    }
    const name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
    return { ...(await FieldStore.photoFrom(blob, name)), width, height };
  }

  function syncPhotoStage() {
    const kept = answer("keep") !== "no";
    const stage = $("photo-stage");
    stage.classList.toggle("has-photo", Boolean(photo) && kept);
    $("camera").hidden = !kept;
    $("preview").hidden = !(photo && kept);
    $("photo-note").hidden = !(photo && kept);
    $("finish").hidden = kept && !photo;
  }

  function describePhoto() {
    if (!photo) return;
    $("photo-note").textContent = photo.width
      ? `Ready: ${photo.width} × ${photo.height} px.`
      : preparing ? "Ready. Making a lighter copy for sending…" : "Ready: the photo as taken.";
  }

  function showPhoto(taken) {
    photo = taken;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(FieldStore.photoBlob(photo));
    const preview = $("preview");
    preview.onload = () => busy(false);
    preview.onerror = () => busy(false); // a format this browser cannot show: kept all the same
    preview.src = previewUrl;
    $("camera").querySelector("span").textContent = "Retake photo";
    describePhoto();
    syncPhotoStage();
  }

  function busy(on) {
    $("photo-busy").hidden = !on;
    $("camera").classList.toggle("disabled", on);
  }

  // The copy being made replaces the photo as taken, unless the photo was retaken meanwhile.
  async function adoptCopy(serial) {
    const copy = preparing && (await preparing);
    if (serial !== photoSerial) return;
    preparing = null;
    if (copy) {
      photo = copy;
      if (!handedOver) FieldStore.saveDraftPhoto(photo).catch(() => { /* the page still holds it */ });
    }
    describePhoto();
  }

  async function makeCopy(file) {
    const settings = await FieldStore.settings().catch(() => FieldStore.DEFAULT_SETTINGS);
    return settings.full_resolution ? null : lighterCopy(file);
  }

  const photoInput = $("photo");
  photoInput.addEventListener("change", async () => {
    const file = photoInput.files[0];
    if (!file) return;
    const serial = ++photoSerial;
    problem("");
    busy(true);
    try {
      preparing = makeCopy(file);
      showPhoto(await FieldStore.photoFrom(file, file.name));
    } catch (error) {
      busy(false);
      problem(`This photo could not be read (${error.message}). Take it again.`);
      return;
    }
    photoInput.value = ""; // the same picture chosen again is a change too
    markDirty();
    saveDraftNow();
    FieldStore.saveDraftPhoto(photo).catch(() => { /* the page still holds it */ });
    await adoptCopy(serial);
  });

  // A draft's photo as taken (the page went away before its copy was made): make it now.
  function resumeCopy() {
    const serial = ++photoSerial;
    preparing = makeCopy(new File([photo.buffer], photo.name, { type: photo.type }));
    describePhoto();
    adoptCopy(serial);
  }

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
      age_group: answer("age_group") || "adult",
      consent: {
        version: Number(fields.consent_version.value),
        language: fields.consent_language.value,
        keep: kept(),
        gallery: kept() && answer("gallery") === "yes",
        training: kept() && answer("training") === "yes",
        social: kept() && answer("social") === "yes",
      },
      credit: named() ? { name: fields.credit_name.value.trim() } : { anonymous: true },
      notes: fields.notes.value.trim(),
    };
  }

  let qrUrl = null;
  function showHandoff(ticket, savedNote) {
    handedOver = true;
    dirty = false;
    stopTimer();
    form.hidden = true;
    if (header) header.hidden = true;
    document.body.classList.remove("stranger");
    document.body.classList.add("handoff");
    $("handoff-ticket").hidden = !ticket;
    $("handoff-no-ticket").hidden = Boolean(ticket);
    const qr = $("handoff-qr");
    if (qrUrl) URL.revokeObjectURL(qrUrl);
    qrUrl = null;
    if (ticket) {
      $("handoff-number").textContent = `#${ticket.number}`;
      qr.hidden = !ticket.qr_svg;
      $("handoff-link").hidden = Boolean(ticket.qr_svg);
      $("handoff-link").textContent = ticket.participant_url || "";
      if (ticket.qr_svg) {
        qr.alt = `QR code leading to drawing #${ticket.number}`;
        qrUrl = URL.createObjectURL(new Blob([ticket.qr_svg], { type: "image/svg+xml" }));
        qr.src = qrUrl;
      }
    }
    $("handoff-saved").textContent = savedNote;
    handoff.hidden = false;
    window.scrollTo(0, 0);
  }

  // The phone's storage refused the encounter: send it straight to the server, without a
  // ticket from the stock (its use could not be written down), and show the number it gets.
  async function sendDirectly(data, refusal) {
    const direct = { uuid: fields.uuid.value, data: { ...data } };
    delete direct.data.ticket;
    const blob = data.consent.keep ? FieldStore.photoBlob(photo) : null;
    let body;
    try {
      problem(`This phone could not store it (${refusal.message}): sending it to the server instead…`);
      body = await FieldSync.uploadDirect(direct, blob);
    } catch (error) {
      if (error.problem) {
        problem(`The server refused it (${error.problem.status}): ${error.message}`);
      } else {
        problem(`Not saved yet: this phone's storage refused it (${refusal.message}) and the server ` +
          `cannot be reached (${error.message}). Everything entered is still here: keep this screen ` +
          "open and tap “Show the QR code” again when there is a network, or free some space on the phone.");
      }
      return;
    }
    let qrSvg = null;
    try {
      qrSvg = await FieldSync.qrCode(body.token);
    } catch (_) { /* the number and the link are shown instead */ }
    const ticket = { number: body.number, token: body.token, participant_url: body.participant_url, qr_svg: qrSvg };
    FieldStore.clearDraft().catch(() => {});
    if (qrSvg) FieldStore.rememberHandoff(direct.uuid, Date.now(), ticket).catch(() => {});
    showHandoff(ticket, "Sent straight to the server: this phone's storage refused it.");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (saving) return;
    const data = encounterData();
    if (named() && !data.credit.name) {
      show(STEP.consent);
      syncCredit(true);
      return;
    }
    if (data.consent.keep && !photo) {
      problem("Take a photo of the drawing first: tap Open camera.");
      return;
    }
    saving = true;
    $("finish").disabled = true;
    clearTimeout(draftTimer);
    try {
      const kept = data.consent.keep;
      // Saved as taken if its lighter copy is not ready yet: the copy replaces it afterwards.
      const copy = kept && preparing;
      let record;
      try {
        record = await FieldStore.saveNew(FieldStore.newRecord({
          uuid: fields.uuid.value, data, photo: kept ? photo : null,
        }), { withTicket: true, clearDraft: true });
      } catch (refusal) {
        await sendDirectly(data, refusal);
        return;
      }
      showHandoff(record.ticket, "Saved on this phone. It uploads by itself.");
      const swapped = copy
        ? copy.then((light) => light && FieldStore.swapPhoto(record.uuid, light)).catch(() => {})
        : null;
      // Sending starts once the QR code is on screen (and the lighter copy is in the outbox).
      requestAnimationFrame(() => setTimeout(async () => {
        await swapped;
        FieldSync.announce();
        FieldSync.requestBackgroundSync();
        if (window.FieldApp) window.FieldApp.sync(true);
      }, 0));
    } finally {
      saving = false;
      $("finish").disabled = false;
    }
  });

  // ---- A fresh encounter: a draft left on the phone, or a new UUID, the time now and the
  // last venue (assumed if used in the last 12 hours, offered if older: FieldStore.lastVenue). ----
  // The server's last venue, as the form was prefilled with it (`at` null: none yet).
  function serverVenue() {
    const at = Date.parse(form.dataset.venueAt || "");
    return {
      venue_type: fields.venue_type.value, venue: fields.venue.value, city: fields.city.value,
      at: Number.isNaN(at) ? null : at,
    };
  }

  async function lastQrButton() {
    const button = $("last-qr");
    const latest = window.FieldQR ? await window.FieldQR.latest() : null;
    button.hidden = !latest;
    if (latest) {
      button.textContent = `Show #${latest.number}'s QR code again`;
      button.onclick = () => window.FieldQR.open(latest);
    }
  }

  // The first step is shown at once, before anything is read from the phone's storage: a tap
  // on it is never undone by a step drawn again a moment later. The last venue fills it when
  // read, unless the artist has already gone on.
  async function begin() {
    form.reset();
    photo = null;
    photoSerial += 1;
    preparing = null;
    handedOver = false;
    dirty = false;
    fields.consent_version.value = pageConsentVersion;
    speak(pageLanguage);
    ageAsked(false);
    fields.uuid.value = crypto.randomUUID();
    fields.started_at.value = localIso();
    fields.drawing_started_at.value = "";
    fields.drawing_finished_at.value = "";
    $("camera").querySelector("span").textContent = "Open camera";
    $("draft-offer").hidden = true;
    closeVenueOffer();
    problem("");
    resetTimer();
    syncAnswers();
    handoff.hidden = true;
    form.hidden = false;
    if (header) header.hidden = false;
    document.body.classList.remove("handoff");
    show(0);
    lastQrButton();
    const venue = await FieldStore.lastVenue(serverVenue());
    if (dirty || current !== 0) return; // the artist has gone on: what they entered stands
    lastVenue = venue;
    if (lastVenue.stale) offerVenue(lastVenue);
    else fillVenue(lastVenue);
  }

  // Nothing is shown until the phone has said whether an encounter was left unfinished: a
  // recent one comes back before the artist can tap anything, an old one is offered.
  async function start() {
    const draft = await FieldStore.getDraft().catch(() => null);
    const starting = begin();
    if (draft && Date.now() - draft.saved_at < FRESH_MS) {
      restore(draft); // in the same task as begin()'s first step: no tap comes in between
      return;
    }
    await starting;
    if (!draft || dirty) return;
    // An old draft is not pushed at the next drawer: the artist decides.
    $("draft-when").textContent = when(draft.saved_at);
    $("draft-offer").hidden = false;
    $("venue-offer").hidden = true;
    $("venue-fields").hidden = true;
    $("draft-continue").onclick = () => { $("draft-offer").hidden = true; closeVenueOffer(); restore(draft); };
    $("draft-drop").onclick = () => $("discard").click();
  }

  $("next-encounter").addEventListener("click", begin);
  form.querySelectorAll("[data-next]").forEach((b) => b.addEventListener("click", () => show(current + 1)));
  back.addEventListener("click", () => show(current - 1));
  document.documentElement.classList.add("js");
  form.classList.add("js");
  start();
})();
