"""``docs/settings.md``, generated from the settings' declarations so the two never disagree.

``python -m durable_app.settings.doc`` prints the page; ``--write`` replaces ``docs/settings.md`` with it.
A test fails while the file differs from what the declarations give.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from durable_app.settings.catalog import SECTIONS
from durable_app.settings.schema import Section

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "settings.md"

INTRO = """\
# Settings

<!-- Generated from durable_app/settings/catalog.py by `python -m durable_app.settings.doc --write`: edit the
declarations there, not this file. -->

The app reads every setting below once, when `function_app.py` is imported, from the app settings in Azure or
the `Values` of `local.settings.json` locally. A bad value stops the app there, with a message naming each bad
setting; a blank value counts as unset. `true`/`false` settings also take `1`/`0`, `yes`/`no` and `on`/`off`.
"""


def settings_markdown(sections: tuple[Section, ...] = SECTIONS) -> str:
    """The settings page: an introduction, then one table per section."""
    return "\n".join([INTRO, *(_section(section) for section in sections)])


def _section(section: Section) -> str:
    rows = [f"| `{s.name}` | {s.kind.description} | {_code(s.default_text)} | {s.doc} |" for s in section.settings]
    table = ["| setting | type | default | meaning |", "|---|---|---|---|", *rows]
    return "\n".join([f"## {section.title}", "", section.intro, "", *table, ""])


def _code(default: str) -> str:
    """Defaults in code style, unless the default is described rather than given."""
    return default if default.startswith("`") or not default[:1].isalnum() else f"`{default}`"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m durable_app.settings.doc", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"replace {DOC_PATH.name} instead of printing it")
    args = parser.parse_args(argv)
    page = settings_markdown()
    if args.write:
        DOC_PATH.write_text(page, encoding="utf-8")
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
