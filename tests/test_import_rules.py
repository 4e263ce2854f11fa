"""The house rules of fieldapp's rooms, read from the source (docs/ARCHITECTURE.md says why).

- A drawing's life runs one way: capture (encounters), consent, media, tickets, signals and
  accounts are below the collector's review and never import it.
- A blueprint's views never import another blueprint's views: what two pages share is a
  service, a form or a template.
- A participant's link and its QR code are made in one place, fieldapp/tickets/links.py.
- Services answer no HTTP request: no `request`, `abort` or `Response` in a services module.
- The performance layer (fieldapp/web) knows no domain: the rooms use it, never the reverse.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fieldapp"
BELOW_REVIEW = ("auth", "consent", "encounters", "media", "tickets", "signals", "withdrawal")
LINK_MAKERS = ("participant_url", "public_base_url", "link_for", "qr_svg", "qr_png")
HTTP_NAMES = {"request", "abort", "Response", "g", "session", "redirect", "render_template",
              "jsonify", "make_response", "send_file", "flash"}  # fmt: skip
WEB_MAY_IMPORT = ("fieldapp.web", "fieldapp.extensions")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}


def imports_of(name: str) -> list[tuple[str, tuple[str, ...]]]:
    """(module imported, names taken from it) for every import anywhere in the module,
    including those inside functions."""
    found = []
    for node in ast.walk(TREES[name]):
        if isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = tuple(alias.name for alias in node.names)
            found.append((node.module, names))
            # `from fieldapp.review import views` imports the module fieldapp.review.views
            found += [(f"{node.module}.{n}", ()) for n in names if f"{node.module}.{n}" in MODULES]
    return found


def room_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 else None


def is_views(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last == "views" or last.endswith("_views")


def test_the_rules_see_every_room():
    rooms = {room_of(name) for name in MODULES} - {None}
    assert {*BELOW_REVIEW, "review", "backlog", "participants", "web"} <= rooms
    assert all(imports_of(name) for name in MODULES if is_views(name))


@pytest.mark.parametrize("room", BELOW_REVIEW)
def test_rooms_below_review_never_import_it(room):
    offending = [
        f"{name} imports {imported}"
        for name in MODULES
        if room_of(name) == room
        for imported, _names in imports_of(name)
        if imported == "fieldapp.review" or imported.startswith("fieldapp.review.")
    ]
    assert offending == []


def test_no_blueprints_views_import_another_blueprints_views():
    offending = [
        f"{name} imports {imported}"
        for name in MODULES
        if is_views(name)
        for imported, _names in imports_of(name)
        if imported in MODULES and is_views(imported) and imported != name
    ]
    assert offending == []


def test_links_and_qr_codes_are_made_only_with_tickets():
    defined = {
        (name, node.name)
        for name in MODULES
        for node in ast.walk(TREES[name])
        if isinstance(node, ast.FunctionDef) and node.name in LINK_MAKERS
    }
    assert defined == {("fieldapp.tickets.links", maker) for maker in LINK_MAKERS}


def test_services_answer_no_http_request():
    offending = [
        f"{name} imports flask.{taken}"
        for name in MODULES
        if name.endswith(".services")
        for imported, names in imports_of(name)
        if imported == "flask"
        for taken in names
        if taken in HTTP_NAMES
    ]
    assert offending == []


def test_the_performance_layer_imports_no_room():
    offending = [
        f"{name} imports {imported}"
        for name in MODULES
        if room_of(name) == "web"
        for imported, _names in imports_of(name)
        if imported.startswith("fieldapp")
        and not any(imported == ok or imported.startswith(ok + ".") for ok in WEB_MAY_IMPORT)
    ]
    assert offending == []


def test_every_table_is_in_the_model_list_the_factory_and_alembic_import():
    """fieldapp/models.py names every model class, so no table depends on which blueprints
    happen to be imported."""
    models = {
        node.name
        for name in MODULES
        for node in ast.walk(TREES[name])
        if isinstance(node, ast.ClassDef)
        and any(ast.unparse(base) in ("Model", "db.Model") for base in node.bases)
    }
    listed = {name for _module, names in imports_of("fieldapp.models") for name in names}
    assert models and models <= listed
    factory = imports_of("fieldapp")
    assert ("fieldapp.models", ()) in factory
    env = (PACKAGE.parent / "migrations" / "env.py").read_text()
    assert "import fieldapp.models" in env
