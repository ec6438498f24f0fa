"""The reference docs keep up with the code: every setting and every system check ID is
documented, so adding one without documenting it fails the suite."""

import re
from pathlib import Path

from django_redis_auth import checks
from django_redis_auth.conf import DEFAULTS

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
    ids = set(re.findall(r"django_redis_auth\.[EW]\d{3}", Path(checks.__file__).read_text()))
    assert ids
    text = (DOCS / "deployment.md").read_text()
    assert {i for i in ids if f"`{i}`" not in text} == set()
