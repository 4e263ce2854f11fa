// The framing editor of the encounter page (templates/review/_framing.html): the archive photo
// with four corner handles dragged by a thumb, a pen or a mouse, and a live preview of the framed
// drawing. Corners are fractions of the photo, listed as the result's top-left, top-right,
// bottom-right, bottom-left (fieldapp/media/framing.py): a quarter turn is a shift of that list.
// Nothing is saved until "Save framing"; without JavaScript the plain buttons still post.
(function () {
  "use strict";
  const section = document.getElementById("framing");
  const editor = document.getElementById("framing-editor");
  if (!section || !editor || !window.PointerEvent) return;
  const stage = editor.querySelector(".framing-stage");
  const box = stage.querySelector(".framing-photo-box");
  const photo = stage.querySelector(".framing-photo");
  // The outline is drawn in an SVG made here (the page's markup carries no SVG of its own).
  const SVG = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "framing-outline");
  svg.setAttribute("aria-hidden", "true");
  function shape(tag, name) {
    const element = document.createElementNS(SVG, tag);
    element.setAttribute("class", name);
    return svg.appendChild(element);
  }
  const shade = shape("path", "framing-shade");
  shade.setAttribute("fill-rule", "evenodd");
  const edges = [shape("polygon", "framing-edge-under"), shape("polygon", "framing-edge")];
  const tops = [shape("line", "framing-top-under"), shape("line", "framing-top")];
  photo.after(svg);
  const topLabel = stage.querySelector(".framing-top-label");
  const loupe = stage.querySelector(".framing-loupe");
  const loupePhoto = loupe.querySelector("img");
  const handles = [...stage.querySelectorAll(".framing-handle")];
  const preview = editor.querySelector(".framing-preview");
  const previewPhoto = preview.querySelector("img");
  const state = editor.querySelector(".framing-state");
  const saveForm = editor.querySelector(".framing-save");
  const cancel = editor.querySelector(".framing-cancel");
  const plain = section.querySelector(".framing-plain");

  const WIDTH = Number(stage.dataset.width);
  const HEIGHT = Number(stage.dataset.height);
  const WHOLE = [[0, 0], [1, 0], [1, 1], [0, 1]];
  const SLACK = 0.05; // how far outside the photo a corner may go (media.framing.EDGE_SLACK)
  const MIN_AREA = 0.01; // media.framing.MIN_AREA_SHARE
  const PREVIEW_HEIGHT = 190; // CSS px: the preview's largest height
  const REFERENCE = 1000; // the preview photo's own width in CSS px, before its transform
  const ZOOM = 3; // the loupe's enlargement of the photo as shown

  const stored = readCorners(stage.dataset.corners) || WHOLE;
  let corners = readCorners(stage.dataset.cornersSent) || copy(stored);
  let drag = null;

  function readCorners(text) {
    try {
      const points = JSON.parse(text);
      if (!Array.isArray(points) || points.length !== 4) return null;
      const read = points.map((p) => [Number(p[0]), Number(p[1])]);
      return read.every((p) => p.every(Number.isFinite)) ? read : null;
    } catch (e) {
      return null;
    }
  }

  function copy(points) {
    return points.map((p) => [p[0], p[1]]);
  }

  function same(a, b) {
    return a.every((p, i) => Math.abs(p[0] - b[i][0]) < 1e-6 && Math.abs(p[1] - b[i][1]) < 1e-6);
  }

  function clamp(value) {
    return Math.min(1 + SLACK, Math.max(-SLACK, value));
  }

  // The whole photo, possibly turned: what the server saves as "whole".
  function isWhole(points) {
    return [0, 1, 2, 3].some((turn) => same(points, turned(WHOLE, turn)));
  }

  function turned(points, turns) {
    const shift = ((turns % 4) + 4) % 4;
    return shift ? points.slice(4 - shift).concat(points.slice(0, 4 - shift)) : copy(points);
  }

  // Which way round the result is: the index of the corner nearest the photo's top-left, so
  // that "use the whole photo" keeps a quarter turn the artist made.
  function turnOf(points) {
    let best = 0;
    points.forEach((p, i) => {
      if (p[0] + p[1] < points[best][0] + points[best][1]) best = i;
    });
    return (4 - best) % 4;
  }

  // Why the server would refuse these corners (media.framing.parse_corners), or "".
  function problemWith(points) {
    for (let i = 0; i < 4; i += 1) {
      const [a, b, c] = [points[i], points[(i + 1) % 4], points[(i + 2) % 4]];
      const cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
      if (!(cross > 0)) return "The corners cross: put each one on its own corner of the sheet.";
    }
    let area = 0;
    points.forEach((p, i) => {
      const q = points[(i + 1) % 4];
      area += p[0] * q[1] - q[0] * p[1];
    });
    if (Math.abs(area) / 2 < MIN_AREA) return "The framing is too small to hold a drawing.";
    const middle = [0, 1].map((k) => points.reduce((sum, p) => sum + p[k], 0) / 4);
    if (!middle.every((c) => c > 0 && c < 1)) {
      return "The framing is off the photo: drag the corners onto the sheet.";
    }
    return "";
  }

  // Drawing ------------------------------------------------------------------------------

  function shown() {
    return [photo.clientWidth, photo.clientHeight];
  }

  function draw() {
    const [w, h] = shown();
    if (!w || !h) return;
    const px = corners.map((p) => [p[0] * w, p[1] * h]);
    const list = px.map((p) => p.join(",")).join(" ");
    svg.setAttribute("width", w);
    svg.setAttribute("height", h);
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    const m = 40; // the shade reaches past the photo's edge, where a corner may lie
    shade.setAttribute("d", `M${-m},${-m}H${w + m}V${h + m}H${-m}Z M${px.map((p) => p.join(",")).join("L")}Z`);
    edges.forEach((edge) => edge.setAttribute("points", list));
    tops.forEach((line) => {
      line.setAttribute("x1", px[0][0]);
      line.setAttribute("y1", px[0][1]);
      line.setAttribute("x2", px[1][0]);
      line.setAttribute("y2", px[1][1]);
    });
    handles.forEach((handle, i) => {
      handle.style.transform = `translate(${px[i][0]}px, ${px[i][1]}px)`;
    });
    placeTopLabel(px);
    if (drag) placeLoupe(px[drag.i], w, h);
    const problem = problemWith(corners);
    stage.classList.toggle("crossed", Boolean(problem));
    drawPreview(problem);
    showState(problem);
  }

  // "top" sits inside the framing, just below the middle of its top edge.
  function placeTopLabel(px) {
    const mid = [(px[0][0] + px[1][0]) / 2, (px[0][1] + px[1][1]) / 2];
    const centre = [0, 1].map((k) => px.reduce((sum, p) => sum + p[k], 0) / 4);
    const dx = centre[0] - mid[0];
    const dy = centre[1] - mid[1];
    const length = Math.hypot(dx, dy) || 1;
    const reach = Math.min(22, length / 2);
    const x = mid[0] + (dx / length) * reach - topLabel.offsetWidth / 2;
    const y = mid[1] + (dy / length) * reach - topLabel.offsetHeight / 2;
    topLabel.style.transform = `translate(${x}px, ${y}px)`;
  }

  // Beside the finger, on the other half of the photo: the thumb hides the ring, not this.
  function placeLoupe(point, w, h) {
    const size = loupe.offsetWidth;
    const x = point[0] < w / 2 ? Math.max(0, w - size) : 0;
    const y = Math.max(0, Math.min(point[1] - size / 2, h - size));
    loupe.style.transform = `translate(${x}px, ${y}px)`;
    loupePhoto.style.width = `${w * ZOOM}px`;
    loupePhoto.style.height = `${h * ZOOM}px`;
    const middle = loupe.clientWidth / 2;
    loupePhoto.style.transform = `translate(${middle - point[0] * ZOOM}px, ${middle - point[1] * ZOOM}px)`;
  }

  // The preview: the photo under a CSS perspective transform (a homography) that maps the
  // framing onto a box of the sheet's aspect ratio; the box's overflow hides the rest.
  function drawPreview(problem) {
    const width = preview.parentElement.clientWidth;
    if (!width) return;
    const pts = corners.map((p) => [p[0] * WIDTH, p[1] * HEIGHT]);
    const aspect = sheetAspect(pts) || 1;
    let boxW = width;
    let boxH = width / aspect;
    if (boxH > PREVIEW_HEIGHT) {
      boxH = PREVIEW_HEIGHT;
      boxW = boxH * aspect;
    }
    preview.style.width = `${Math.round(boxW)}px`;
    preview.style.height = `${Math.round(boxH)}px`;
    preview.dataset.aspect = aspect.toFixed(4);
    const scale = REFERENCE / WIDTH;
    previewPhoto.style.width = `${REFERENCE}px`;
    previewPhoto.style.height = `${(HEIGHT * scale).toFixed(3)}px`;
    previewPhoto.style.visibility = problem ? "hidden" : "visible";
    if (problem) return;
    const quad = pts.map((p) => [p[0] * scale, p[1] * scale]);
    previewPhoto.style.transform = matrix3d(toRectangle(quad, Math.round(boxW), Math.round(boxH)));
  }

  function dist(a, b) {
    return Math.hypot(a[0] - b[0], a[1] - b[1]);
  }

  // The sheet's real width / height, as the server will cut it (media/framing.py rectify and
  // media/sheet_detection.py sheet_aspect): the whole photo keeps its shape; a sheet seen in
  // perspective is measured by Zhang & He's whiteboard method (principal point at the photo's
  // centre), else by its mean side lengths; within 3 % of A4 or Letter, the paper's own ratio.
  const PAPERS = [Math.SQRT2, 11 / 8.5];
  function sheetAspect(pts) {
    const whole = corners.every((p) => (p[0] === 0 || p[0] === 1) && (p[1] === 0 || p[1] === 1));
    if (whole) return dist(pts[0], pts[1]) / dist(pts[0], pts[3]);
    const aspect = whiteboardAspect(pts, WIDTH / 2, HEIGHT / 2)
      || (dist(pts[0], pts[1]) + dist(pts[3], pts[2])) / (dist(pts[0], pts[3]) + dist(pts[1], pts[2]));
    for (const paper of PAPERS) {
      for (const ratio of [paper, 1 / paper]) {
        if (Math.abs(aspect / ratio - 1) <= 0.03) return ratio;
      }
    }
    return aspect;
  }

  function whiteboardAspect(pts, u0, v0) {
    const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    const [m1, m2, m4, m3] = pts.map((p) => [p[0], p[1], 1]); // TL, TR, BR, BL
    const k2 = dot(cross(m1, m4), m3) / dot(cross(m2, m4), m3);
    const k3 = dot(cross(m1, m4), m2) / dot(cross(m3, m4), m2);
    const n2 = m2.map((v, i) => k2 * v - m1[i]);
    const n3 = m3.map((v, i) => k3 * v - m1[i]);
    if (Math.abs(n2[2]) < 1e-6 || Math.abs(n3[2]) < 1e-6) return null;
    const f2 = -((n2[0] * n3[0] - (n2[0] * n3[2] + n2[2] * n3[0]) * u0 + n2[2] * n3[2] * u0 * u0)
      + (n2[1] * n3[1] - (n2[1] * n3[2] + n2[2] * n3[1]) * v0 + n2[2] * n3[2] * v0 * v0)) / (n2[2] * n3[2]);
    const scale = Math.max(u0, v0) * 2;
    if (!(f2 > (0.2 * scale) ** 2 && f2 < (8 * scale) ** 2)) return null; // nearly frontal
    // |K⁻¹ n|² with K the camera matrix (focal length √f2, principal point u0, v0).
    const norm = (n) => ((n[0] - u0 * n[2]) ** 2 + (n[1] - v0 * n[2]) ** 2) / f2 + n[2] ** 2;
    const ratio2 = norm(n2) / norm(n3);
    return ratio2 > 0 ? Math.sqrt(ratio2) : null;
  }

  // The 3×3 homography taking the quadrilateral `q` onto the rectangle (0,0)-(w,h): the inverse
  // of the unit square's map onto `q` (Heckbert, "Fundamentals of Texture Mapping", 1989),
  // scaled to the rectangle.
  function toRectangle(q, w, h) {
    const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = q;
    const sx = x0 - x1 + x2 - x3;
    const sy = y0 - y1 + y2 - y3;
    const dx1 = x1 - x2;
    const dx2 = x3 - x2;
    const dy1 = y1 - y2;
    const dy2 = y3 - y2;
    const det = dx1 * dy2 - dx2 * dy1;
    const g = (sx * dy2 - dx2 * sy) / det;
    const k = (dx1 * sy - sx * dy1) / det;
    const a = x1 - x0 + g * x1;
    const b = x3 - x0 + k * x3;
    const d = y1 - y0 + g * y1;
    const e = y3 - y0 + k * y3;
    // square -> quad: [[a, b, x0], [d, e, y0], [g, k, 1]]; its adjugate maps quad -> square.
    const inv = [
      [e - y0 * k, x0 * k - b, b * y0 - x0 * e],
      [y0 * g - d, a - x0 * g, x0 * d - a * y0],
      [d * k - e * g, b * g - a * k, a * e - b * d],
    ];
    const m = [
      inv[0].map((v) => v * w),
      inv[1].map((v) => v * h),
      inv[2],
    ];
    // Keep w > 0 inside the framing (the adjugate may carry a sign), and normalise.
    const cx = (x0 + x1 + x2 + x3) / 4;
    const cy = (y0 + y1 + y2 + y3) / 4;
    const sign = m[2][0] * cx + m[2][1] * cy + m[2][2] > 0 ? 1 : -1;
    const n = sign / Math.abs(m[2][2] || 1);
    return m.map((row) => row.map((v) => v * n));
  }

  function matrix3d(m) {
    const v = [
      m[0][0], m[1][0], 0, m[2][0],
      m[0][1], m[1][1], 0, m[2][1],
      0, 0, 1, 0,
      m[0][2], m[1][2], 0, m[2][2],
    ];
    return `matrix3d(${v.map((x) => (Number.isFinite(x) ? x : 0).toPrecision(10)).join(",")})`;
  }

  function showState(problem) {
    const changed = !same(corners, stored);
    cancel.disabled = !changed;
    state.classList.toggle("problem", Boolean(problem));
    if (problem) state.textContent = problem;
    else if (changed) state.textContent = "Not saved yet: tap “Save framing” to keep it.";
    else state.textContent = "";
  }

  // Dragging: pointer events with capture, so a handle follows the finger even past the photo
  // and the page does not scroll under it (touch-action: none in framing.css).

  function startDrag(event) {
    if (event.button !== undefined && event.button > 0) return;
    const handle = event.currentTarget;
    const i = Number(handle.dataset.corner);
    const rect = photo.getBoundingClientRect();
    const [w, h] = [rect.width, rect.height];
    drag = {
      i, handle, rect, id: event.pointerId,
      // where in the ring the finger took it: the corner does not jump under the finger
      dx: event.clientX - (rect.left + corners[i][0] * w),
      dy: event.clientY - (rect.top + corners[i][1] * h),
    };
    event.preventDefault();
    handle.setPointerCapture(event.pointerId);
    handle.classList.add("dragging");
    loupe.hidden = false;
    draw();
  }

  function moveDrag(event) {
    if (!drag || event.pointerId !== drag.id) return;
    event.preventDefault();
    const { rect, i } = drag;
    corners[i] = [
      clamp((event.clientX - drag.dx - rect.left) / rect.width),
      clamp((event.clientY - drag.dy - rect.top) / rect.height),
    ];
    draw();
  }

  function endDrag(event) {
    if (!drag || event.pointerId !== drag.id) return;
    drag.handle.classList.remove("dragging");
    loupe.hidden = true;
    if (drag.handle.hasPointerCapture(event.pointerId)) {
      drag.handle.releasePointerCapture(event.pointerId);
    }
    drag = null;
    draw();
  }

  // Arrow keys move a focused handle by 0.5 % of the photo (5 % with Shift).
  function nudge(event) {
    const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const step = steps[event.key];
    if (!step) return;
    event.preventDefault();
    const i = Number(event.currentTarget.dataset.corner);
    const size = event.shiftKey ? 0.05 : 0.005;
    corners[i] = [clamp(corners[i][0] + step[0] * size), clamp(corners[i][1] + step[1] * size)];
    draw();
  }

  handles.forEach((handle) => {
    handle.addEventListener("pointerdown", startDrag);
    handle.addEventListener("pointermove", moveDrag);
    handle.addEventListener("pointerup", endDrag);
    handle.addEventListener("pointercancel", endDrag);
    handle.addEventListener("lostpointercapture", endDrag);
    handle.addEventListener("keydown", nudge);
    handle.addEventListener("contextmenu", (event) => event.preventDefault());
  });

  // The buttons --------------------------------------------------------------------------

  editor.querySelector(".framing-rotate").addEventListener("click", () => {
    corners = turned(corners, 1);
    draw();
  });

  editor.querySelector(".framing-whole").addEventListener("click", () => {
    corners = turned(WHOLE, turnOf(corners));
    draw();
  });

  cancel.addEventListener("click", () => {
    corners = copy(stored);
    draw();
  });

  saveForm.addEventListener("submit", (event) => {
    const problem = problemWith(corners);
    if (problem) {
      event.preventDefault();
      showState(problem);
      return;
    }
    saveForm.elements["framing-how"].value = isWhole(corners) ? "whole" : "corners";
    saveForm.elements["framing-corners"].value = JSON.stringify(
      corners.map((p) => p.map((v) => Math.round(v * 100000) / 100000))
    );
  });

  // "Reset to automatic" replaces corners placed by hand (saved or not): ask once first.
  const reset = plain.querySelector(".framing-reset");
  const confirmPanel = plain.querySelector(".framing-confirm");
  const keep = plain.querySelector(".framing-keep");
  const byHand = section.querySelector("[data-field=framing]").textContent.includes("by hand");
  reset.addEventListener("click", (event) => {
    const wouldLose = byHand || !same(corners, stored);
    if (!wouldLose || !confirmPanel.hidden) return; // the second tap posts
    event.preventDefault();
    confirmPanel.hidden = false;
    keep.hidden = false;
    reset.textContent = "Yes, reset to automatic";
    reset.classList.add("danger");
  });
  keep.addEventListener("click", () => {
    confirmPanel.hidden = true;
    keep.hidden = true;
    reset.textContent = "Reset to automatic";
    reset.classList.remove("danger");
  });

  // The editor replaces the plain "whole photo" button (which would lose a quarter turn).
  plain.querySelector(".framing-plain-whole").hidden = true;
  editor.hidden = false;
  if (location.hash === "#framing") {
    editor.open = true;
    // The outcome of a save is flashed at the top of the page: bring it to where the eyes are.
    const flash = document.querySelector("main > .flash");
    if (flash) section.querySelector("h2").after(flash);
  }

  if (window.ResizeObserver) new ResizeObserver(draw).observe(photo);
  addEventListener("resize", draw);
  editor.addEventListener("toggle", draw);
  photo.addEventListener("load", draw);
  draw();
})();
