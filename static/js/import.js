// The backlog import, one file per request with a progress bar. Without JavaScript the form
// posts every file at once and the server answers with the same list of outcomes.
(function () {
  "use strict";
  const form = document.getElementById("import-form");
  if (!form || !window.fetch || !window.FormData) return;
  const input = document.getElementById("files");
  const offset = document.getElementById("utc_offset");
  const panel = document.getElementById("import-progress");
  const phase = document.getElementById("import-phase");
  const bar = document.getElementById("import-bar");
  const count = document.getElementById("import-count");
  const list = document.getElementById("import-outcomes");
  const unframedPanel = document.getElementById("import-unframed");
  const unframedList = document.getElementById("import-unframed-list");
  const unframedTitle = document.getElementById("h-import-unframed");
  const summary = document.getElementById("import-summary");
  const done = document.getElementById("import-done");
  const PROBE_BYTES = 256 * 1024;
  const csrf = form.querySelector("input[name=csrf_token]").value;
  // The drawings' day in the collector's clock: the browser knows its UTC offset.
  offset.value = String(-new Date().getTimezoneOffset());

  function isZip(file) {
    return /\.zip$/i.test(file.name);
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": csrf },
    });
    let json = null;
    try { json = await response.json(); } catch (e) { json = null; }
    return { ok: response.ok, status: response.status, json };
  }

  async function captureTime(file) {
    const body = new FormData();
    body.append("head", file.slice(0, PROBE_BYTES), file.name);
    try {
      const answer = await post(form.dataset.probe, body);
      return answer.ok && answer.json ? answer.json.taken : null;
    } catch (e) {
      return null;
    }
  }

  function show(outcome) {
    const item = document.createElement("li");
    item.className = outcome.status;
    const name = document.createElement("span");
    name.className = "file";
    name.textContent = outcome.filename;
    item.append(name, ": ");
    if (outcome.uuid) {
      const link = document.createElement("a");
      link.href = form.dataset.log.replace(/\/?$/, "/") + outcome.uuid;
      link.textContent = outcome.message;
      item.append(link);
    } else {
      item.append(outcome.message);
    }
    list.append(item);
    if (outcome.status === "imported" && outcome.needs_framing) unframed(outcome);
  }

  // A photo with no sheet found in it: one tap from its framing editor.
  function unframed(outcome) {
    const frame = document.createElement("a");
    frame.className = "button";
    frame.href = form.dataset.log.replace(/\/?$/, "/") + outcome.uuid + "#framing";
    frame.textContent = `Frame #${outcome.number}`;
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "file";
    name.textContent = outcome.filename;
    item.append(frame, " ", name);
    unframedList.append(item);
    unframedPanel.hidden = false;
    unframedTitle.textContent = `${unframedList.children.length} could not be framed`;
  }

  form.addEventListener("submit", async (event) => {
    const files = Array.from(input.files || []);
    if (!files.length) return; // the server explains what is missing
    event.preventDefault();
    const button = document.getElementById("import-start");
    button.disabled = true;
    panel.hidden = false;
    list.textContent = "";
    unframedList.textContent = "";
    unframedPanel.hidden = true;
    summary.hidden = true;
    done.hidden = true;
    panel.scrollIntoView({ block: "start" });

    const photos = files.filter((f) => !isZip(f));
    const zips = files.filter(isZip);
    phase.textContent = "Reading when each photo was taken…";
    bar.max = photos.length || 1;
    bar.value = 0;
    const keyed = [];
    for (const file of photos) {
      keyed.push({ file, taken: await captureTime(file) });
      bar.value += 1;
      count.textContent = `${bar.value} of ${photos.length}`;
    }
    // Capture time first (oldest first), then the rest by name: the server's order too.
    keyed.sort((a, b) => {
      if (a.taken && b.taken && a.taken !== b.taken) return a.taken < b.taken ? -1 : 1;
      if (a.taken && !b.taken) return -1;
      if (!a.taken && b.taken) return 1;
      return a.file.name < b.file.name ? -1 : a.file.name > b.file.name ? 1 : 0;
    });
    const queue = keyed.map((k) => k.file).concat(zips);

    phase.textContent = "Importing…";
    bar.max = queue.length;
    bar.value = 0;
    let next = Number(form.elements.start_number.value) || 1;
    const tally = { imported: 0, duplicate: 0, refused: 0 };
    for (const file of queue) {
      count.textContent = `${bar.value + 1} of ${queue.length}: ${file.name}`;
      const body = new FormData(form);
      body.delete("files");
      body.set("start_number", String(next));
      body.append("files", file, file.name);
      let outcomes;
      try {
        const answer = await post(form.dataset.file, body);
        if (answer.json && answer.json.outcomes) {
          outcomes = answer.json.outcomes;
        } else {
          const why = answer.json && answer.json.problems ? answer.json.problems.join(" ")
            : answer.json && answer.json.message ? answer.json.message : `server answered ${answer.status}`;
          outcomes = [{ filename: file.name, status: "refused", message: why }];
        }
      } catch (e) {
        outcomes = [{ filename: file.name, status: "refused", message: "Not sent: no network. Try this file again." }];
      }
      for (const outcome of outcomes) {
        tally[outcome.status] = (tally[outcome.status] || 0) + 1;
        // A drawing rescued from a phone's outbox keeps its own number: it does not move the batch's.
        if (outcome.status === "imported" && !outcome.from_outbox) next = outcome.number + 1;
        show(outcome);
      }
      bar.value += 1;
    }
    phase.textContent = "Import finished";
    count.textContent = `${queue.length} file${queue.length === 1 ? "" : "s"} sent.`;
    summary.textContent = `${tally.imported} imported, ${tally.duplicate} already there, ${tally.refused} refused.`;
    summary.hidden = false;
    done.hidden = false;
    button.disabled = false;
    form.elements.start_number.value = String(next);
    input.value = "";
  });
})();
