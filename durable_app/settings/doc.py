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


WHY_NOT_PYDANTIC_SETTINGS = """\
## Why not pydantic-settings

The declarations are read by the app's own `durable_app/settings/schema.py` (about 220 lines), not by
pydantic-settings. A trial model of the same 29 settings on pydantic-settings 2.16.3 kept every behaviour above,
but only by bringing along almost all of that code: its `env_ignore_empty` drops `""` yet not `" "`, so
blank-as-unset and reading a given mapping instead of the process environment (as the command-line clients do) took
a settings source of the app's own; pydantic's messages ("Input should be greater than or equal to 1") are not the
app's, so each kind kept its parser as a validator and its errors a formatter naming the setting; the
`ENDPOINT`/`TASKHUB` fallbacks and the `TASKHUB_NAME` override stay app code either way; the clients read the four
connection settings alone, one model reads all 29; and this page's sections and shown defaults are not the model's.
What it would replace is the lookup and the error collection, about 45 lines. It would cost every cold start:
imported after pydantic's `BaseModel`, which the app loads anyway, pydantic-settings and the model took a median
129 ms and 231 ms in two runs, against 28 ms and 40 ms for these modules (15 fresh interpreters each, on a shared
2-core VM at load average 3-4), a third or more of the 0.32 s cold start in [performance.md](performance.md). The
settings load nothing outside the standard library and `durable_app.values`, and a layout test keeps it so.
"""


def settings_markdown(sections: tuple[Section, ...] = SECTIONS) -> str:
    """The settings page: an introduction, one table per section, then why the schema is the app's own."""
    return "\n".join([INTRO, *(_section(section) for section in sections), WHY_NOT_PYDANTIC_SETTINGS])


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
