// Making the phone's photo lighter for sending: decoded and scaled to the size asked (upright, by
// its EXIF orientation), drawn on white, encoded as JPEG.
//
// Loaded twice: as a dedicated worker (capture.js starts it), so that a 12-megapixel photo is
// prepared off the page's thread while the artist goes on — message in {job, file, width,
// height, quality}, out {job, blob} or {job, error}; and as a plain script in the capture page,
// where `FieldPhotoCopy.lighterJpeg` is the fallback for engines without OffscreenCanvas.
(function (global) {
  "use strict";

  async function decode(file, width, height) {
    try {
      return await createImageBitmap(file, {
        imageOrientation: "from-image", resizeWidth: width, resizeHeight: height, resizeQuality: "high",
      });
    } catch (_) {
      return createImageBitmap(file, { imageOrientation: "from-image" }); // scaled when drawn
    }
  }

  function canvasOf(width, height) {
    if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    return canvas;
  }

  function encode(canvas, quality) {
    if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality });
    return new Promise((resolve, reject) => canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error("no JPEG"))), "image/jpeg", quality));
  }

  async function lighterJpeg(file, width, height, quality) {
    const bitmap = await decode(file, width, height);
    const canvas = canvasOf(width, height);
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // paper, where a PNG was transparent
    context.fillRect(0, 0, width, height);
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    return encode(canvas, quality);
  }

  global.FieldPhotoCopy = { lighterJpeg };

  if (typeof WorkerGlobalScope !== "undefined" && global instanceof WorkerGlobalScope) {
    global.addEventListener("message", async (event) => {
      const { job, file, width, height, quality } = event.data;
      try {
        global.postMessage({ job, blob: await lighterJpeg(file, width, height, quality) });
      } catch (error) {
        global.postMessage({ job, error: String((error && error.message) || error) });
      }
    });
  }
})(self);
