"""``python -m durable_app.lint [PATH...]``: flag calls that differ between replays in declared orchestrators.

The check itself is :mod:`durable_app.workflows.determinism`, which the hosted worker also runs at startup.
"""

from durable_app.workflows.determinism import main

if __name__ == "__main__":
    raise SystemExit(main())
