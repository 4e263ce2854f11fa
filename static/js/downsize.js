// A dedicated worker that makes the phone's photo lighter for sending: decoded and scaled to the
// size asked (upright, by its EXIF orientation), drawn on white, encoded as JPEG. Off the page's
// thread, so the capture screen stays responsive while a 12-megapixel photo is prepared.
// Message in: {job, file, width, height, quality}; out: {job, blob} or {job, error}.
"use strict";
self.addEventListener("message", async (event) => {
  const { job, file, width, height, quality } = event.data;
  try {
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, {
        imageOrientation: "from-image", resizeWidth: width, resizeHeight: height, resizeQuality: "high",
      });
    } catch (_) {
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }); // no resize here
    }
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // paper, where a PNG was transparent
    context.fillRect(0, 0, width, height);
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    self.postMessage({ job, blob: await canvas.convertToBlob({ type: "image/jpeg", quality }) });
  } catch (error) {
    self.postMessage({ job, error: String((error && error.message) || error) });
  }
});
