"""What may import what (docs/architecture.md): checked over every module's imports, so the layering cannot drift."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONCEPTS = (
    "accounts",
    "audit",
    "calendar",
    "consolidation",
    "documents",
    "drafts",
    "due",
    "essays",
    "members",
    "programmes",
    "study",
    "surveys",
    "units",
)
# Modules that assemble the HTTP side may import every concept's routes.
ASSEMBLERS = {"shared.api.router", "shared.app", "server.app", "node.app"}
# Imports allowed to break the rule, each with its reason. None today; do not add one lightly.
KNOWN: set[tuple[str, str]] = set()


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _modules() -> dict[str, set[str]]:
    files = [
        p for top in ("shared", "server", "node") for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts
    ]
    return {_module(p): _imports(p) for p in files}


def _is_http(target: str) -> bool:
    """An HTTP-facing module: a concept's routes (`shared.<concept>.api`) or the API shell (`shared.api`)."""
    parts = target.split(".")
    return target.startswith("shared.api") or (len(parts) >= 3 and parts[1] in CONCEPTS and parts[2] == "api")


def _is_page(target: str) -> bool:
    parts = target.split(".")
    return len(parts) >= 3 and parts[1] in CONCEPTS and parts[2] == "ui"


def _violations() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for module, targets in _modules().items():
        if module in ASSEMBLERS:
            continue
        own = ".".join(module.split(".")[:2])
        for full in targets:
            if not full.startswith(("shared.", "server.", "node.")):
                continue
            parts = full.split(".")
            target = ".".join(parts[:3]) if len(parts) > 1 and parts[1] in CONCEPTS else full
            if module.startswith("shared.domain") and not target.startswith("shared.domain"):
                found.add((module, target))  # the pure core imports nothing of the program
            elif module.startswith(("shared.sync", "shared.db")) and target.split(".")[1] in CONCEPTS:
                found.add((module, target))  # the engine knows record types only through the registry
            elif _is_http(target) and not (module.startswith("shared.api") or _is_http(module)):
                found.add((module, target))  # services, pages, reports, jobs and the CLI call services, not routes
            elif (
                _is_http(target)
                and _is_http(module)
                and target.split(".")[1] in CONCEPTS
                and not target.startswith(own)
            ):
                found.add((module, target))  # one concept's routes never import another's
            elif _is_page(target) and not module.startswith(("shared.ui", own)):
                found.add((module, target))  # pages are reached through the UI's registry only
    return found


def test_layering_rule_holds_for_every_module() -> None:
    new = _violations() - KNOWN
    assert not new, "imports that break docs/architecture.md's rule:\n" + "\n".join(
        f"{a} -> {b}" for a, b in sorted(new)
    )


def test_known_exceptions_are_still_needed() -> None:
    """An exception that no longer occurs is removed from KNOWN, so the list only shrinks."""
    assert not KNOWN - _violations()
