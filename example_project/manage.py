#!/usr/bin/env python
"""Django's command-line utility for the django-redis-auth example project."""

import os
import sys
from importlib.util import find_spec
from pathlib import Path

# Imported by the settings (or the package) before any command runs.
REQUIRED = (
    "django",
    "rest_framework",
    "rest_framework_simplejwt",
    "django_redis",
    "dj_database_url",
)


def missing_modules() -> list[str]:
    needed = list(REQUIRED)
    if not os.environ.get("REDIS_URL"):
        needed.append("fakeredis")  # the in-process Redis stand-in
    return [name for name in needed if find_spec(name) is None]


def hint(missing: list[str], here: Path) -> str:
    venv = here.parent / ".venv" / "bin" / "python"
    command = " ".join(["example_project/manage.py", *sys.argv[1:]])
    lines = [
        f"{sys.executable} cannot run the example project: no module named "
        + ", ".join(repr(name) for name in missing)
        + ".",
        "It runs in the demo's virtualenv. From the repository root:",
        "  make demo                 # creates .venv with what the demo needs, then serves it",
    ]
    if venv.exists():
        lines.append(f"  .venv/bin/python {command}")
    else:
        lines.append(f"  then: .venv/bin/python {command}")
    lines.append("  make superuser            # an admin account for /admin/")
    return "\n".join(lines)


def main() -> None:
    here = Path(__file__).resolve().parent
    # The project package (``demo``) lives next to this file; the repository root holds
    # ``django_redis_auth`` so the demo also runs from a checkout without ``pip install -e``.
    for path in (here, here.parent):
        if str(path) not in sys.path:
            sys.path.insert(0 if path == here else len(sys.path), str(path))
    missing = missing_modules()
    if missing:
        print(hint(missing, here), file=sys.stderr)
        sys.exit(1)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
