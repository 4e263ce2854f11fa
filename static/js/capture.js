// The capture flow, one step at a time: venue → time limit & timer → consent → photo.
// Without this script the form still works, all steps in one column.
(() => {
  "use strict";
  const form = document.getElementById("capture");
  if (!form) return;
  const steps = [...form.querySelectorAll(".step")];
  const back = form.querySelector("[data-back]");
  let current = 0;

  function localIso(date = new Date()) {
    const pad = (n) => String(n).padStart(2, "0");
    const offset = -date.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    const abs = Math.abs(offset);
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
      `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
      `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  function show(index) {
    current = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach((step, i) => step.classList.toggle("current", i === current));
    back.hidden = current === 0;
    window.scrollTo(0, 0);
  }

  form.classList.add("js");
  form.elements.started_at.value = localIso(); // the encounter starts now, in local time
  form.querySelectorAll("[data-next]").forEach((b) => b.addEventListener("click", () => show(current + 1)));
  back.addEventListener("click", () => show(current - 1));
  // On a failed submission, start at the photo step: everything else is filled in.
  show(document.querySelector(".problems") ? steps.length - 1 : 0);

  // Timer: counts down from the chosen limit (or up, with no limit); records real drawing time.
  const clock = document.getElementById("clock");
  const start = document.getElementById("timer-start");
  const stop = document.getElementById("timer-stop");
  const timer = clock.closest(".timer");
  let ticking = null;

  const limitSeconds = () => {
    const chosen = form.querySelector("input[name=time_limit]:checked");
    return chosen && /^\d+$/.test(chosen.value) ? Number(chosen.value) : null;
  };
  const format = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  const idle = () => { const l = limitSeconds(); clock.textContent = l ? format(l) : "0:00"; };
  form.querySelectorAll("input[name=time_limit]").forEach((r) => r.addEventListener("change", idle));
  idle();

  start.addEventListener("click", () => {
    const began = Date.now();
    const limit = limitSeconds();
    form.elements.drawing_started_at.value = localIso(new Date(began));
    start.hidden = true;
    stop.hidden = false;
    ticking = setInterval(() => {
      const elapsed = Math.floor((Date.now() - began) / 1000);
      if (limit === null) { clock.textContent = format(elapsed); return; }
      const left = Math.max(0, limit - elapsed);
      clock.textContent = format(left);
      if (left === 0 && !timer.classList.contains("time-up")) {
        timer.classList.add("time-up");
        if (navigator.vibrate) navigator.vibrate([400, 150, 400]);
      }
    }, 250);
  });
  stop.addEventListener("click", () => {
    clearInterval(ticking);
    form.elements.drawing_finished_at.value = localIso();
    show(current + 1);
  });

  // Consent: nothing can be shown or used unless the drawing is kept.
  const keep = form.elements.keep;
  const dependent = ["gallery", "training", "social"].map((n) => form.elements[n]);
  const syncKeep = () => dependent.forEach((box) => {
    box.disabled = !keep.checked;
    if (!keep.checked) box.checked = false;
  });
  keep.addEventListener("change", syncKeep);
  syncKeep();

  const nameField = document.getElementById("credit-name-field");
  const syncCredit = () => {
    const named = form.querySelector("input[name=credit]:checked")?.value === "name";
    nameField.hidden = !named;
    if (named) form.elements.credit_name.focus();
  };
  form.querySelectorAll("input[name=credit]").forEach((r) => r.addEventListener("change", syncCredit));
  nameField.hidden = form.querySelector("input[name=credit]:checked")?.value !== "name";

  // Photo preview, so a blurred shot can be retaken before the handoff.
  const photo = document.getElementById("photo");
  const preview = document.getElementById("preview");
  photo.addEventListener("change", () => {
    const file = photo.files[0];
    if (!file) return;
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    photo.closest("label").querySelector("span").textContent = "Retake photo";
  });
})();
