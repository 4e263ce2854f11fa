"""A small collection to export, a photo of a red-ink drawing that looks like a real one, and
the export read back: its zip, its rows, each image's C2PA manifest."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import c2pa
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from tests.factories import make_encounter, number_of


def consent(*, training: bool, gallery: bool = True, social: bool = False) -> dict:
    return {"version": 1, "keep": True, "gallery": gallery, "training": training, "social": social}


@dataclass(frozen=True)
class Collection:
    credited: int  # training allowed, credited as "Ana Lima"
    anonymous: int  # training allowed, anonymous
    not_for_training: int  # kept, training not allowed, credited as "Bo"
    withdrawn: int  # had allowed training, then withdrew


def make_collection(app) -> Collection:
    """Consented (credited and anonymous), not consented, withdrawn drawers, and a declined
    approach; each drawing a different image."""
    credited = make_encounter(
        app, photo=drawing_photo(seed=1), consent=consent(training=True), credit_name="Ana Lima",
        city="Lisbon", venue_type="party", time_limit_seconds=60,
    )  # fmt: skip
    anonymous = make_encounter(app, photo=drawing_photo(seed=2), consent=consent(training=True))
    kept = make_encounter(
        app, photo=drawing_photo(seed=3), consent=consent(training=False), credit_name="Bo"
    )
    withdrawn = make_encounter(
        app, photo=drawing_photo(seed=4), consent=consent(training=True), withdrawn=True
    )
    make_encounter(app, declined=True)
    return Collection(
        credited=number_of(app, credited),
        anonymous=number_of(app, anonymous),
        not_for_training=number_of(app, kept),
        withdrawn=number_of(app, withdrawn),
    )


def drawing_photo(*, seed: int = 3, size: tuple[int, int] = (480, 640)) -> bytes:
    """A phone photo of a portrait in red pen on off-white paper: a shadow across the page,
    a blue-ish cast, a grey pencil guide line and sensor noise."""
    w, h = size
    rnd = random.Random(seed)
    ramp = Image.linear_gradient("L").resize((w, h)).rotate(-35, expand=False, fillcolor=255)
    light = ramp.point(lambda v: int(140 + 115 * v / 255))  # dark corner to lit corner
    paper = Image.merge(
        "RGB",
        [light.point(lambda v: int(v * 0.90)), light.point(lambda v: int(v * 0.93)), light],
    )
    ink = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(ink)
    s = w / 1200
    d.ellipse((380 * s, 300 * s, 820 * s, 900 * s), outline=255, width=max(2, int(7 * s)))
    d.arc((150 * s, 950 * s, 1050 * s, 1700 * s), 190, 350, fill=255, width=max(2, int(7 * s)))
    for x0 in (480, 640):
        d.ellipse((x0 * s, 520 * s, (x0 + 80) * s, 570 * s), outline=255, width=2)
    d.arc((520 * s, 700 * s, 680 * s, 790 * s), 20, 160, fill=255, width=2)
    for _ in range(30):
        x0, y0 = rnd.randint(int(380 * s), int(820 * s)), rnd.randint(int(260 * s), int(420 * s))
        d.line((x0, y0, x0 + rnd.randint(-40, 40), y0 + rnd.randint(-25, 25)), fill=255, width=2)
    ink = ink.filter(ImageFilter.GaussianBlur(0.8))
    lit_pen = ImageChops.multiply(Image.new("RGB", (w, h), (215, 45, 55)), paper)
    photo = Image.composite(lit_pen, paper, ink)
    ImageDraw.Draw(photo).line(
        (60, int(h * 0.72), w - 60, int(h * 0.70)), fill=(110, 114, 124), width=2
    )
    noise = Image.effect_noise((w, h), 12).convert("RGB")
    photo = Image.blend(photo, ImageChops.add(photo, noise, 2, -64), 0.4)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=88)
    return out.getvalue()


# An export, read back ------------------------------------------------------------------

MIME = {".jpg": "image/jpeg", ".png": "image/png"}


def run_export(app, out: Path, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=["export", "dataset", str(out), *args])
    assert result.exit_code == 0, result.output


def unzip(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        archive.extractall(into)
    return into


def export(app, folder: Path, *args: str) -> Path:
    """Run `flask export dataset` and unzip it; returns the folder of its images."""
    out = folder.with_suffix(".zip")
    result = app.test_cli_runner().invoke(args=["export", "dataset", str(out), *args])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        archive.extractall(folder)
    return folder / "train"


def rows_of(images: Path) -> list[dict]:
    return [json.loads(line) for line in (images / "metadata.jsonl").open()]


def read(data: bytes, mime: str, *, trusting: bytes | None = None) -> tuple[dict, str, str, list]:
    """(active manifest, the store's whole JSON, validation state, failure codes) of an image;
    `trusting` a CA certificate (PEM) makes it a trust anchor of the reader."""
    settings = {"trust": {"user_anchors": trusting.decode()}} if trusting else {}
    with (
        c2pa.Context(c2pa.Settings.from_dict(settings)) as context,
        c2pa.Reader(mime, io.BytesIO(data), context=context) as reader,
    ):
        store = reader.json()
        manifest = reader.get_active_manifest()
        state = reader.get_validation_state()
        results = reader.get_validation_results()
    failures = [f["code"] for f in results["activeManifest"].get("failure", [])]
    return manifest, store, state, failures


def actions_of(manifest: dict) -> dict[str, dict]:
    (actions,) = [a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")]
    return {action["action"]: action for action in actions["data"]["actions"]}


def training_uses(manifest: dict) -> dict[str, str]:
    (assertion,) = [a for a in manifest["assertions"] if a["label"] == "cawg.training-mining"]
    return {name: entry["use"] for name, entry in assertion["data"]["entries"].items()}


def assert_croissant_validates(path: Path) -> None:
    """`mlcroissant validate` accepts the file without a warning (a standard @context,
    nothing missing)."""
    check = subprocess.run(
        [str(Path(sys.executable).with_name("mlcroissant")), "validate", "--jsonld", str(path)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "WARNING" not in check.stderr + check.stdout
