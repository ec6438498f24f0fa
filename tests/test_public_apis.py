"""Nothing in the package reaches into another package's private names.

Why: a private name (``_token_backend``, ``redis._parsers``...) can change in any minor
release of its package without notice, and the package would break silently. The scan
reads every module of ``django_redis_auth/`` (AST, nothing imported) and reports

* ``from X import _y`` and ``import X._y`` for any package ``X`` but ours;
* ``name._y`` where ``name`` was bound by an import from another package (a module, or a
  class or function imported from one), e.g. ``Token._token_backend`` or ``jwt._x``;
* ``anything._y`` (not ``self``/``cls``) where ``_y`` is defined nowhere in the package:
  then it can only be another package's private attribute (``token._token_backend`` on a
  simplejwt token held in a variable).

Dunder names (``__name__``, ``__new__``...) are Python's, not a package's, and do not count.
``ALLOWED`` lists the few names another package documents as public despite the
underscore, each with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "django_redis_auth"
OURS = "django_redis_auth"

# (module the name is reached through, or "attribute"; the name): why it may be used.
ALLOWED: dict[tuple[str, str], str] = {
    # Django documents the Model _meta API (docs/ref/models/meta) as public and stable.
    ("attribute", "_meta"): "Django's documented Options API",
    # Django documents Model._default_manager (docs/topics/db/managers, "Default managers").
    ("attribute", "_default_manager"): "Django's documented default manager",
    # Django documents instance._state.adding / _state.db (docs/ref/models/instances,
    # "Customizing model loading").
    ("attribute", "_state"): "Django's documented model state",
    # No public equivalent: Django's log_response() skips a response carrying this flag.
    # The alternative, a filter on the "django.request" logger, would rewrite the
    # project's logging configuration. Used for the 503s already logged once (outages.py).
    ("attribute", "_has_been_logged"): "no public way to mark a response as logged",
}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _external(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] not in (OURS, "__future__")


def private_uses(
    source: str, defined: set[str] | frozenset[str] = frozenset()
) -> list[tuple[int, str, str]]:
    """``(line, module, name)`` of every private name of another package ``source`` uses."""
    tree = ast.parse(source)
    imported: dict[str, str] = {}  # local name -> the external module it came from
    hits: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _external(alias.name):
                    continue
                parts = alias.name.split(".")
                for part in parts[1:]:
                    if _private(part):
                        hits.append((node.lineno, alias.name, part))
                imported[alias.asname or parts[0]] = (alias.asname and alias.name) or parts[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _external(node.module):
            module = node.module or ""
            for part in module.split(".")[1:]:
                if _private(part):
                    hits.append((node.lineno, module, part))
            for alias in node.names:
                if _private(alias.name):
                    hits.append((node.lineno, module, alias.name))
                imported[alias.asname or alias.name] = module
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        owner = node.value.id if isinstance(node.value, ast.Name) else None
        if owner in imported:
            hits.append((node.lineno, imported[owner], node.attr))
        elif owner not in ("self", "cls") and node.attr not in defined:
            hits.append((node.lineno, "attribute", node.attr))
    return [hit for hit in hits if (hit[1], hit[2]) not in ALLOWED]


def defined_names(sources: list[str]) -> set[str]:
    """Every private name the package defines: functions, classes, module and class
    variables, ``self``/``cls`` attributes, ``__slots__`` entries."""
    names: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                names.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)  # __slots__, getattr() names
    return {name for name in names if _private(name)}


SOURCES = {path: path.read_text() for path in sorted(PACKAGE.rglob("*.py"))}
DEFINED = defined_names(list(SOURCES.values()))


def test_the_scan_finds_what_it_looks_for():
    found = private_uses(
        "from rest_framework_simplejwt.tokens import Token, _hidden\n"
        "import redis._parsers\n"
        "from django.db.models import base as model_base\n"
        "from django_redis_auth.keys import _p\n"
        "Token._token_backend\n"
        "model_base._x\n"
        "Token.__new__\n"
        "obj._private\n"
        "token._token_backend\n",
        defined={"_private"},
    )
    assert [(line, name) for line, _, name in found] == [
        (1, "_hidden"),
        (2, "_parsers"),
        (5, "_token_backend"),
        (6, "_x"),
        (9, "_token_backend"),
    ]


@pytest.mark.parametrize("path", list(SOURCES), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_names_of_other_packages(path):
    hits = private_uses(SOURCES[path], DEFINED)
    assert not hits, [f"{path.name}:{line}: {module} {name}" for line, module, name in hits]
