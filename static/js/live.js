// The live screen: polls /live.json every 5 s (ETag, so an unchanged feed is a 304) and
// updates the count, the labor figures and the latest drawings without reloading the page.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) return;
  var feed = root.getAttribute("data-feed");
  var lastTag = null;
  var INTERVAL = 5000;
  var number = new Intl.NumberFormat("en-US");
  var hours = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

  function setText(name, text) {
    var nodes = root.querySelectorAll('[data-live="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].textContent !== text) nodes[i].textContent = text;
    }
  }

  function renderLatest(items) {
    var list = document.getElementById("live-latest");
    var fresh = document.createDocumentFragment();
    items.forEach(function (d) {
      var li = document.createElement("li");
      var img = document.createElement("img");
      img.src = d.thumb;
      img.width = d.width;
      img.height = d.height;
      img.alt = "Drawing #" + d.number + ", by " + d.credit;
      var caption = document.createElement("span");
      caption.textContent = "#" + d.number + " · " + d.credit;
      li.appendChild(img);
      li.appendChild(caption);
      fresh.appendChild(li);
    });
    list.replaceChildren(fresh);
    document.getElementById("live-empty").hidden = items.length > 0;
  }

  function apply(data) {
    setText("drawings", number.format(data.drawings));
    setText("goal", number.format(data.goal));
    setText("approaches", number.format(data.approaches));
    setText("drawer_hours", hours.format(data.drawer_hours));
    setText("collector_hours", hours.format(data.collector_hours));
    var progress = document.getElementById("live-progress");
    progress.max = data.goal;
    progress.value = Math.min(data.drawings, data.goal);
    renderLatest(data.latest);
  }

  function poll() {
    // "no-cache": the browser revalidates with If-None-Match; a 304 reuses its copy.
    fetch(feed, { cache: "no-cache", credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        var tag = response.headers.get("ETag");
        if (tag && tag === lastTag) return null;
        lastTag = tag;
        return response.json();
      })
      .then(function (data) {
        if (data) apply(data);
        root.removeAttribute("data-offline");
      })
      .catch(function () {
        root.setAttribute("data-offline", "");
      })
      .finally(function () {
        window.setTimeout(poll, INTERVAL);
      });
  }

  window.setTimeout(poll, INTERVAL);
})();
