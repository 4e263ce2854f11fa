// Home: a declined approach in two taps (Declined, then Yes), saved in the phone's outbox so it
// works with no network; and how many encounters are still on this phone.
(() => {
  "use strict";
  const form = document.getElementById("declined");
  if (!form || !window.FieldStore) return;
  const $ = (id) => document.getElementById(id);
  const fields = form.elements;

  const localIso = FieldStore.localIso;

  // The venue of the last encounter made on this phone, which the server may not know yet.
  async function venue() {
    const last = await FieldStore.getMeta("last_venue").catch(() => null);
    return last || { venue_type: fields.venue_type.value, venue: fields.venue.value, city: fields.city.value };
  }
  const describe = (v) => [v.venue_type, v.venue, v.city].filter(Boolean).join(", ");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("declined-venue").textContent = describe(await venue());
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

  $("declined-yes").addEventListener("click", async () => {
    const place = await venue();
    const data = { status: "declined", ...place, started_at: localIso() };
    try {
      await FieldStore.saveNew(FieldStore.newRecord({ data }), { withTicket: false });
      $("declined-done").textContent = `Declined approach logged at ${describe(place)}. It counts: asking is labor too.`;
    } catch (error) {
      $("declined-done").textContent = `Not logged: this phone could not save it (${error.message}).`;
    }
    $("declined-done").hidden = false;
    close();
    FieldSync.requestBackgroundSync();
    if (window.FieldApp) window.FieldApp.sync(true);
  });

  venue().then((v) => { $("declined-where").textContent = describe(v); });

  document.addEventListener("fieldapp:status", (event) => {
    const { waiting, flagged } = event.detail;
    const onPhone = waiting + flagged;
    $("home-waiting").textContent = onPhone ? `, ${onPhone} more on this phone` : "";
  });
})();
