"""The import graph of our packages: no cycles, the package rules of architecture.md, and only
the Telegram adapter (`bot/telegram/`) importing python-telegram-bot.

Every import counts, wherever it is written: at module level, inside a function, or under
`if TYPE_CHECKING:` (a late import that dodges a cycle still makes one).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "storage", "scoring", "scheduler")
# What each package may import of ours besides itself (architecture.md, "Packages").
ALLOWED = {
    "storage": set(),
    "scoring": set(),
    "scheduler": {"storage", "scoring"},
    "bot": {"storage", "scoring", "scheduler"},
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.relative_to(ROOT).parts:
                continue  # Alembic revisions are loaded by Alembic, never imported
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _ours(name: str) -> str | None:
    """The module of ours that `name` (a module or a name in one) loads, if any."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imported(module: str, path: Path) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
        else:
            continue
        for target in targets:
            found = _ours(target)
            if found is not None and found != module:
                yield found


def graph() -> dict[str, set[str]]:
    return {module: set(_imported(module, path)) for module, path in MODULES.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(edges.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_the_check_sees_every_package_and_catches_a_cycle() -> None:
    assert {m.split(".")[0] for m in MODULES} == set(PACKAGES)
    assert "storage.surveys" in graph()["bot.survey.service"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_our_modules() -> None:
    assert cycles(graph()) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_what_architecture_allows(package: str) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        if module.split(".")[0] == package
        for target in targets
        if target.split(".")[0] not in {package, *ALLOWED[package]}
    )
    assert wrong == []


def platform_imports(source: str) -> set[str]:
    """The top-level packages `source` imports absolutely (relative imports are ours)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_platform_check_sees_every_kind_of_import() -> None:
    late = "def f():\n    from telegram.error import TelegramError\n"
    assert platform_imports(late) == {"telegram"}
    assert platform_imports("import telegram.ext as ext") == {"telegram"}
    assert platform_imports("if TYPE_CHECKING:\n    from telegram import Bot\n") == {"telegram"}
    assert platform_imports("from bot.telegram import links\nfrom . import telegram") == {"bot"}


def test_only_the_telegram_adapter_imports_python_telegram_bot() -> None:
    assert any(m.startswith("bot.telegram.") for m in MODULES)
    outside = sorted(
        module
        for module, path in MODULES.items()
        if module != "bot.telegram" and not module.startswith("bot.telegram.")
        if "telegram" in platform_imports(path.read_text(encoding="utf-8"))
    )
    assert outside == []
