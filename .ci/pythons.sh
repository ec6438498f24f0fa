#!/usr/bin/env bash
# Prints a PATH under which the tox matrix's interpreters (python3.11 to 3.13) run:
# nothing for one already on PATH, else the newest pyenv install of that version. Exits 1
# naming an interpreter it cannot find: the matrix is what the classifiers claim.
set -euo pipefail
dirs=()
for version in 3.11 3.12 3.13; do
    if "python$version" -c "" >/dev/null 2>&1; then
        continue
    fi
    found=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$found" ]; then
        echo ".ci/pythons.sh: python$version not found on PATH or in pyenv" >&2
        exit 1
    fi
    dirs+=("$found")
done
dirs+=("$PATH")
(IFS=:; echo "${dirs[*]}")
