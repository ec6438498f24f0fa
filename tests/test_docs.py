"""The reference docs keep up with the code: every setting and every system check ID is
documented, so adding one without documenting it fails the suite."""

import re
from pathlib import Path

from django_redis_auth import adoption_checks, checks
from django_redis_auth.conf import DEFAULTS
from django_redis_auth.fleet import checks as fleet_checks

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_setting_is_documented_with_its_default():
    text = (DOCS / "settings.md").read_text()
    text = text[: text.index("\n\n", text.index("| key | default | meaning |"))]
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\| `([A-Z][A-Z0-9_]*)` \| `?([^|`]+)`? \|", text, re.MULTILINE)
    }
    assert set(DEFAULTS) <= set(rows), f"undocumented: {sorted(set(DEFAULTS) - set(rows))}"
    assert set(rows) <= set(DEFAULTS), f"documented, not a setting: {set(rows) - set(DEFAULTS)}"
    for name, default in DEFAULTS.items():
        assert rows[name] == repr(default).replace("'", '"'), name


def test_every_system_check_id_is_documented():
    sources = [Path(m.__file__).read_text() for m in (checks, adoption_checks, fleet_checks)]
    ids = set(re.findall(r"django_redis_auth\.[EW]\d{3}", "".join(sources)))
    assert ids
    text = (DOCS / "deployment.md").read_text()
    assert {i for i in ids if f"`{i}`" not in text} == set()


PUBLIC_MODULES = (
    "tokens.issuing",
    "tokens.revocation",
    "tokens.claims",
    "codes.otp",
    "codes.purposes",
    "authentication",
    "signals",
    "codes.senders",
    "testing",
)


def test_every_public_name_is_in_the_python_api_page():
    import importlib

    text = (DOCS / "python-api.md").read_text()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(f"django_redis_auth.{module_name}")
        assert module.__all__, module_name
        assert f"`django_redis_auth.{module_name}`" in text
        missing = [n for n in module.__all__ if not re.search(rf"`{n}[`(]", text)]
        assert missing == [], module_name
        assert all(hasattr(module, n) for n in module.__all__)


def test_every_signal_is_public():
    from django.dispatch import Signal

    from django_redis_auth import signals

    found = {name for name, value in vars(signals).items() if isinstance(value, Signal)}
    assert set(signals.__all__) == found


def test_every_docs_page_is_in_the_site_nav():
    nav = (DOCS.parent / "mkdocs.yml").read_text()
    pages = {p.name for p in DOCS.glob("*.md")}
    assert {p for p in pages if f": {p}" not in nav} == set()


def test_the_version_lives_in_one_place():
    import tomllib

    import django_redis_auth

    project = tomllib.loads((DOCS.parent / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "django_redis_auth/__init__.py"
    assert re.fullmatch(r"\d+\.\d+\.\d+", django_redis_auth.__version__)
    changelog = (DOCS.parent / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.MULTILINE)
    assert django_redis_auth.__version__ in released


def test_classifiers_name_the_tested_django_and_python_versions():
    import configparser
    import tomllib

    classifiers = tomllib.loads((DOCS.parent / "pyproject.toml").read_text())["project"][
        "classifiers"
    ]
    tox = configparser.ConfigParser()
    tox.read(DOCS.parent / "tox.ini")
    makefile = (DOCS.parent / "Makefile").read_text()
    matrix = re.search(r"^MATRIX \?= (.+)$", makefile, re.MULTILINE).group(1).split(",")
    assert set(matrix) <= {e.strip() for e in tox["tox"]["env_list"].split(",")}
    pythons = {f"{m[2]}.{m[3:5]}" for m in (e.split("-")[0] for e in matrix)}
    djangos = {f"{e.split('-')[1][6]}.{e.split('-')[1][7]}" for e in matrix}
    assert {c.rsplit(" :: ", 1)[1] for c in classifiers if "Python :: 3." in c} == pythons
    assert {c.rsplit(" :: ", 1)[1] for c in classifiers if "Django :: " in c} == djangos


def test_the_module_table_lists_every_module():
    """docs/index.md's module table matches the files of the package."""
    package = DOCS.parent / "django_redis_auth"
    text = (DOCS / "index.md").read_text()
    table = text[text.index("| module | role |") :]
    modules = {
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if p.name != "__init__.py" and not {"migrations", "management"} & set(p.parts)
    }
    assert {m for m in modules if f"`{m}`" not in table} == set()
