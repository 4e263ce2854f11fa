// Home: the count towards the goal (the server's, plus what waits on this phone, kept current
// without a reload), and a declined approach in two taps (Declined, then Yes), saved in the
// phone's outbox so it works with no network. A venue last used more than 12 hours ago is
// offered ("still there?"), not assumed.
(() => {
  "use strict";
  const form = document.getElementById("declined");
  if (!form || !window.FieldStore) return;
  const $ = (id) => document.getElementById(id);
  const fields = form.elements;
  const localIso = FieldStore.localIso;
  const number = new Intl.NumberFormat("en-US"); // the collector's side is in English, like the server's "10,000"
  const plural = (n, one, many) => `${number.format(n)} ${n === 1 ? one : many}`;

  // ---- The count. ----
  const progress = $("progress");
  // The server's count as this page was made; a page from the phone's cache (no network) may be
  // older than the last count the phone heard, which it keeps.
  let server = {
    drawings: Number(progress.dataset.drawings),
    approaches: Number(progress.dataset.approaches),
    goal: Number(progress.dataset.goal),
    at: progress.dataset.at,
  };
  const newer = (a, b) => Date.parse(a.at) > Date.parse(b.at);
  let onPhone = null; // uuid → status of the records on this phone at the last look

  function render() {
    const statuses = onPhone ? [...onPhone.values()] : [];
    const drawings = server.drawings + statuses.filter((s) => s === "completed").length;
    const approaches = server.approaches + statuses.length;
    $("home-drawings").textContent = number.format(drawings);
    $("home-goal").textContent = number.format(server.goal);
    $("home-bar").max = server.goal;
    $("home-bar").value = Math.min(drawings, server.goal);
    $("home-approaches").textContent = `${plural(approaches, "approach", "approaches")} logged`;
    $("home-waiting").textContent = statuses.length ? `, ${statuses.length} of them still on this phone` : "";
  }

  async function refresh() {
    // First the last count the phone heard, if this page is older than it (a page from the
    // phone's cache): no older count shows while the network is asked, or never answers.
    const heard = await FieldStore.getMeta("progress").catch(() => null);
    if (heard && newer(heard, server)) {
      server = heard;
      render();
    }
    try {
      const answer = await FieldSync.call("/api/v1/progress", { timeout: 5000 });
      if (answer.ok && answer.body && !newer(server, answer.body)) {
        server = answer.body;
        FieldStore.setMeta("progress", server).catch(() => {});
      }
    } catch (_) {
      // No network: the count above stands.
    }
    render();
  }

  document.addEventListener("fieldapp:status", (event) => {
    const now = new Map(event.detail.records.map((r) => [r.uuid, r.data.status]));
    let left = false;
    if (onPhone) {
      // Gone from the phone: confirmed by the server (or withdrawn, or discarded): count it
      // there until the server's own count says otherwise.
      for (const [uuid, status] of onPhone) {
        if (now.has(uuid)) continue;
        left = true;
        server.approaches += 1;
        if (status === "completed") server.drawings += 1;
      }
    }
    onPhone = now;
    render();
    if (left) refresh();
  });
  refresh();

  // ---- Declined. ----
  let place = null; // { venue_type, venue, city, at }

  // The last venue (FieldStore.lastVenue: assumed for 12 hours, then offered), or, on a phone
  // with no encounter yet, the server's, as this form carries it.
  function lastVenue() {
    const at = Date.parse(form.dataset.venueAt || "");
    return FieldStore.lastVenue({
      venue_type: fields.venue_type.value, venue: fields.venue.value, city: fields.city.value,
      at: Number.isNaN(at) ? null : at,
    });
  }
  const describe = (v) => [v.venue_type, v.venue, v.city].filter(Boolean).join(", ");

  function ago(ms) {
    if (!ms) return "a while ago";
    const hours = Math.round((Date.now() - ms) / 3600000);
    return hours < 48 ? `${hours} hours ago` : `${Math.round(hours / 24)} days ago`;
  }

  function editVenue() {
    $("declined-venue-type").value = place.venue_type;
    $("declined-occasion").value = place.venue || "";
    $("declined-city").value = place.city || "";
    $("declined-edit").hidden = false;
    $("declined-elsewhere").hidden = true;
    $("declined-yes").textContent = "Yes, log it here";
    $("declined-occasion").focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    place = await lastVenue();
    $("declined-venue").textContent = describe(place);
    $("declined-age").hidden = !place.stale;
    $("declined-age").textContent = `Last used ${ago(place.at)}. Still there?`;
    $("declined-yes").textContent = place.stale ? "Yes, still there: log it" : "Yes, log it";
    $("declined-edit").hidden = true;
    $("declined-elsewhere").hidden = false;
    $("declined-confirm").hidden = false;
    $("declined-button").hidden = true;
    $("declined-help").hidden = true;
    $("declined-done").hidden = true;
  });

  function close() {
    $("declined-confirm").hidden = true;
    $("declined-button").hidden = false;
    $("declined-help").hidden = false;
  }
  $("declined-cancel").addEventListener("click", close);
  $("declined-elsewhere").addEventListener("click", editVenue);

  $("declined-yes").addEventListener("click", async () => {
    const where = $("declined-edit").hidden ? place : {
      venue_type: $("declined-venue-type").value,
      venue: $("declined-occasion").value.trim(),
      city: $("declined-city").value.trim(),
    };
    const { venue_type, venue, city } = where;
    const data = { status: "declined", venue_type, venue: venue || "", city: city || "", started_at: localIso() };
    try {
      await FieldStore.saveNew(FieldStore.newRecord({ data }), { withTicket: false });
      $("declined-done").textContent = `Declined approach logged at ${describe(where)}. It counts: asking is labor too.`;
      $("declined-where").textContent = describe(where);
    } catch (error) {
      $("declined-done").textContent = `Not logged: this phone could not save it (${error.message}).`;
    }
    $("declined-done").hidden = false;
    close();
    FieldSync.announce();
    FieldSync.requestBackgroundSync();
    if (window.FieldApp) window.FieldApp.sync(true);
  });

  lastVenue().then((v) => { $("declined-where").textContent = describe(v); });
})();
