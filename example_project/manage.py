#!/usr/bin/env python
"""Django's command-line utility for the django-redis-auth example project."""

import os
import sys
from pathlib import Path


def main() -> None:
    here = Path(__file__).resolve().parent
    # The project package (``demo``) lives next to this file; the repository root holds
    # ``django_redis_auth`` so the demo also runs from a checkout without ``pip install -e``.
    for path in (here, here.parent):
        if str(path) not in sys.path:
            sys.path.insert(0 if path == here else len(sys.path), str(path))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
