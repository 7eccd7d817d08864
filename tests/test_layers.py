"""The layers (docs/decisions/0008-layers.md): an app imports only from the floors below it, read from
every module's imports (top-level and inside functions alike), so a new arrow the wrong way fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import kesu

ROOT = Path(kesu.__file__).parent

FLOORS: dict[str, int] = {
    "worktime": 0,
    "org": 0,
    "notify": 1,
    "complaints": 2,
    "repairs": 3,
    "voice": 3,
    "improvement": 3,
    "triage": 3,
    "web": 4,
    "portal": 4,
    "api": 4,
    "reports": 4,
    "ops": 5,
    "demo": 5,
    "cli": 5,
    "urls": 5,
    "wsgi": 5,
    "settings": 5,
    "settings_test": 5,
}
DOMAINS = {app for app, floor in FLOORS.items() if floor == 3}
# The monthly report's computation is shared by the three other interfaces (its page, the API's
# report endpoint, the portal's printable sheets use its fonts); it imports none of them.
SHARED_INTERFACE = "reports"


def imports_of(path: Path) -> set[str]:
    """The kesu modules a file imports, relative imports resolved."""
    rel = path.relative_to(ROOT.parent).with_suffix("")
    package = list(rel.parts if path.name == "__init__.py" else rel.parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("kesu.")}


def app_of(module: str) -> str:
    return module.split(".")[1]


def arrows() -> list[tuple[str, str, str]]:
    """(file, importing app, imported app) for every import between two apps."""
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        here = rel.parts[0].removesuffix(".py")
        for module in imports_of(path):
            there = app_of(module)
            if there != here:
                out.append((str(rel), here, there))
    return out


def allowed(here: str, there: str) -> bool:
    if here not in FLOORS or there not in FLOORS:
        return False
    if here in DOMAINS and there in DOMAINS:
        return False  # domains know each other only through ids and published events
    if FLOORS[here] == FLOORS[there] == 4:
        return there == SHARED_INTERFACE
    # The ground floor's two parts, and the operations' commands, settings and demo, use each other freely.
    return FLOORS[there] < FLOORS[here] or FLOORS[there] == FLOORS[here] in (0, 5)


def test_every_app_has_a_floor():
    apps = {
        p.name.removesuffix(".py")
        for p in ROOT.iterdir()
        if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    assert apps - {"__init__"} <= set(FLOORS), (
        f"apps without a floor: {sorted(apps - set(FLOORS) - {'__init__'})}"
    )


def test_no_import_runs_up_the_layers():
    wrong = sorted({(f, here, there) for f, here, there in arrows() if not allowed(here, there)})
    assert not wrong, "imports against the layers:\n" + "\n".join(f"{f}: {h} → {t}" for f, h, t in wrong)


def test_the_core_and_the_outbox_import_no_interface():
    # The lifecycle publishes events; webhooks, pages and reports subscribe or read, never the reverse.
    interfaces = {"web", "api", "portal", "reports", "ops", "demo"}
    wrong = [(f, t) for f, h, t in arrows() if h in ("complaints", "notify", "org") and t in interfaces]
    assert wrong == []


def test_the_walk_sees_imports_inside_functions(tmp_path):
    # The rule holds for lazy imports too (a function-level import is still an arrow).
    assert "kesu.complaints.sweep" in imports_of(ROOT / "ops" / "jobs.py")
