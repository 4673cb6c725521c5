"""HTML for the dashboard's pages: plain server-rendered tables, escaped, with one small script for refresh."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from durabletask import task

from durable_app.scheduler import RUNTIME_STATUS, TERMINAL_NAMES
from durable_app.scheduler.waiting import AwaitedEvent, InFlight, Waiting
from durable_app.workflows import workflows
from local_stack.dashboard.reader import EntityRow, InstanceDetail, InstanceRow, Page
from local_stack.dashboard.timeline import Bar, Span, Step, bars, spans

ACTIONS = ("terminate", "suspend", "resume", "rewind", "restart", "purge", "raise-event")

HISTORY_PAGE_STEPS = 100
"""History rows per page: a 5,000-item fan-out's 5,000 activity rows come 100 at a time."""

TIMELINE_BARS = 300
"""Bars in the timeline panel at most: more steps than this share bars (``timeline.bars``)."""

LABELLED_BARS = 60
"""Up to this many bars each carry its name beside it; denser panels name them on hover only."""

CELL_CHARS = 120
"""History values longer than this fold behind a click (the first line shows their start)."""

FOLD_CHARS = 500
"""Longer JSON values (a fan-out's input of thousands of items) show their start and a link to the whole."""


def actions_for(status: str) -> tuple[str, ...]:
    """The actions that apply to an instance in ``status``: a running one can be paused or stopped, a
    suspended one resumed, a finished one restarted or purged, and a failed one also rewound."""
    if status == "Failed":
        return ("rewind", "restart", "purge")
    if status in TERMINAL_NAMES:
        return ("restart", "purge")
    if status == "Suspended":
        return ("resume", "terminate", "raise-event")
    return ("suspend", "terminate", "raise-event")


def layout(title: str, body: str, *, endpoint: str, taskhub: str, refresh: bool = False) -> str:
    """The frame every page shares; ``refresh`` makes the script reload ``#live`` every 2 s."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)} - local DTS dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/dashboard.css"></head>
<body data-refresh="{"on" if refresh else "off"}">
<header><strong>Durable Task dashboard</strong>
<nav><a href="/">Orchestrations</a> <a href="/entities">Entities</a></nav>
<span class="hub">{_e(endpoint)} &middot; task hub <code>{_e(taskhub)}</code></span>
<label class="auto"><input type="checkbox" id="auto-refresh" checked> auto-refresh</label></header>
<main><h1>{_e(title)}</h1>{body}</main>
<script src="/static/dashboard.js"></script></body></html>"""


def banner(message: str) -> str:
    return f'<div class="banner" role="alert">{_e(message)}</div>'


def notice(message: str) -> str:
    """A confirmation (an action sent): the page says what happened instead of reloading silently."""
    return f'<div class="notice" role="status">{_e(message)}</div>'


def error_page_body(message: str, field: str) -> str:
    """A refused query parameter, for a person: what is wrong and the way back."""
    return (
        f"{banner(message)}<p>The parameter <code>{_e(field)}</code> was refused. "
        '<a href="/">All orchestrations</a> &middot; <a href="/entities">Entities</a></p>'
    )


def live(content: str) -> str:
    """``content`` as the region the refresh script replaces, so a later answer can replace it again."""
    return f'<div id="live">{content}</div>'


def instance_filters(
    statuses: list[str], name: str, id_prefix: str, created_from: str, created_to: str, page_size: int
) -> str:
    options = "".join(
        f'<label><input type="checkbox" name="status" value="{s}"{" checked" if s in statuses else ""}> {s}</label>'
        for s in RUNTIME_STATUS.values()
    )
    return f"""<form class="filters" method="get" action="/">
<fieldset><legend>Status</legend>{options}</fieldset>
<label>Instance id (exact or prefix) <input name="instance_id" value="{_e(id_prefix)}"></label>
<label>Name starts with <input name="name" value="{_e(name)}" list="declared-orchestrators"></label>
{_declared_list("declared-orchestrators", list(workflows.orchestrators))}
<label>Created from (UTC) <input type="datetime-local" step="1" name="created_from" value="{_e(created_from)}"></label>
<label>to <input type="datetime-local" step="1" name="created_to" value="{_e(created_to)}"></label>
<label>Per page <input type="number" name="page_size" min="1" max="500" value="{page_size}"></label>
<button type="submit">Filter</button> <a href="/">Clear</a></form>
<p class="recent">Created in the last {_recent_links(page_size)}</p>
<p class="counts" data-src="/counts">Counting instances per status&hellip;</p>"""


def status_counts(counts: dict[str, int], *, more: bool, limit: int) -> str:
    """Instances per status, each a link to the list of those; "at least" when the count stopped at ``limit``."""
    shown = " &middot; ".join(
        f'<a href="/?{_query({"status": status})}" data-status="{status}">{status} '
        f'<span class="count">{counts[status]:,}</span></a>'
        for status in RUNTIME_STATUS.values()
        if status in counts
    )
    total = sum(counts.values())
    note = f" (the first {limit:,} counted)" if more else ""
    return f'<p class="counts" data-total="{total}">{total:,} instances{note}: {shown or "none"}</p>'


def instance_table(page: Page, query: dict[str, list[str] | str], *, first_page: bool) -> str:
    """The live region of the list: one page of rows and the links to walk the scheduler's pages."""
    versions = any(row.version for row in page.rows)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = "".join(_instance_row(row, now, versions=versions) for row in page.rows)
    rows = rows or '<tr><td colspan="6">No orchestrations.</td></tr>'
    note = ""
    if query.get("name") and page.next_token:
        note = "(names are matched here, a few scheduler pages at a time: the next page may hold more)"
    order = (
        '<p class="order" data-order="newest-first">Newest first.</p>'
        if page.newest_first
        else '<p class="order" data-order="scheduler">In the scheduler\'s order: this scheduler does not page '
        "newest first; the links above show the most recent work.</p>"
    )
    version = "<th>Version</th>" if versions else ""
    return f"""<div id="live">{order}<table class="instances"><thead><tr><th>Instance</th><th>Name</th>
<th>Status</th><th>Created</th><th>Updated</th><th>Duration</th>{version}</tr></thead><tbody>{rows}</tbody></table>
{_pager("/", page, query, first_page=first_page, note=note)}</div>"""


def instance_page(detail: InstanceDetail, history_page: int, *, token: str) -> tuple[str, str]:
    """The instance's actions (those that apply now) and its live region: facts and one page of history.

    Returned apart, as the refresh script replaces only the live region; both name the actions that apply, so
    the script reloads the page when they change (running -> suspended -> finished), and only then.
    """
    row = detail.row
    payload = f"/instances/{_e(row.instance_id)}/payload"
    facts = [
        ("Name", _e(row.name)),
        ("Status", _status(row.status)),
        ("Created", _time(row.created)),
        ("Updated", _time(row.updated)),
        ("Input", _json(detail.input, whole=f"{payload}/input")),
        ("Output", _json(detail.output, whole=f"{payload}/output")),
        ("Custom status", _json(detail.custom_status, whole=f"{payload}/custom_status")),
    ]
    if detail.parent_id:
        facts.insert(1, ("Parent", _instance_link(detail.parent_id)))
    if row.version:
        facts.insert(1, ("Version", _e(row.version)))
    if detail.trace_id:
        facts.append(("Trace id", f'<code class="trace-id">{_e(detail.trace_id)}</code>'))
    if detail.failure:
        facts.append(("Failure", _failure(detail.failure)))
        facts += [
            ("Failed in", _failed_step(step)) for step in detail.steps if step.failure and step.kind != "orchestration"
        ]
    facts_html = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
    waits = _waiting(detail.waiting) if detail.waiting and row.status not in TERMINAL_NAMES else ""
    first = (history_page - 1) * HISTORY_PAGE_STEPS
    now = datetime.now(UTC)
    shown = list(zip(detail.steps, spans(detail.steps, now), strict=True))
    steps = "".join(_step_row(step, span) for step, span in shown[first : first + HISTORY_PAGE_STEPS])
    final = ' data-final="1"' if row.status in TERMINAL_NAMES else ""
    applicable = " ".join(actions_for(row.status))
    live = f"""<div id="live"{final} data-actions="{applicable}"><table class="facts">{facts_html}</table>{waits}
{_timeline_panel(detail.steps, now)}
<h2>History</h2>{_history_pager(row.instance_id, len(detail.steps), history_page)}
<table class="timeline"><thead><tr><th>Kind</th><th>Name</th><th>Status</th><th>Started</th>
<th>Ended</th><th>Duration</th><th class="bar">Timeline</th><th>Input</th><th>Output</th></tr></thead>
<tbody>{steps}</tbody></table></div>"""
    return _actions(row.instance_id, row.status, token), live


def _timeline_panel(steps: list[Step], now: datetime) -> str:
    """Activities, sub-orchestrations, timers and entity calls as bars on one time axis, full width."""
    shown = bars(steps, now, TIMELINE_BARS)
    if not shown:
        return ""
    whole = steps[0].duration_ms if steps and steps[0].kind == "orchestration" else None
    axis = f"0 to {_seconds(timedelta(milliseconds=whole))}" if whole is not None else "start to now"
    merged = sum(bar.count for bar in shown)
    note = f"; {merged:,} steps in {len(shown)} bars" if merged > len(shown) else ""
    dense = "" if len(shown) <= LABELLED_BARS else " dense"
    lanes = "".join(_bar(bar, labelled=not dense) for bar in shown)
    return (
        f'<section class="timeline-panel{dense}"><h2>Timeline</h2>'
        f'<p class="axis">{axis}{note}; hover a bar for its name, times and duration</p>{lanes}</section>'
    )


def _bar(bar: Bar, *, labelled: bool) -> str:
    times = f"{bar.started:%H:%M:%S.%f}"[:-3] + (f" to {bar.ended:%H:%M:%S.%f}"[:-3] if bar.ended else ", running")
    took = f", {(bar.ended - bar.started).total_seconds() * 1000:.0f} ms" if bar.ended else ""
    many = f" ({bar.count} steps)" if bar.count > 1 else ""
    title = f"{bar.label}{many}: {bar.status}, {times}{took}"
    label = f'<span class="label">{_e(bar.label)}</span>' if labelled else ""
    return (
        f'<div class="lane" title="{_e(title)}">{label}<div class="track"><div class="span {bar.status.lower()}" '
        f'style="margin-left:min({bar.span.offset:.2%}, 100% - 3px);width:{bar.span.width:.2%}"></div></div></div>'
    )


def _waiting(found: Waiting) -> str:
    """The "Waiting for" section: each unfinished piece of work, timer, lock, event awaited, and the events received."""
    now = datetime.now(UTC)
    items = [_in_flight(item, now) for item in found.work]
    items += [
        f'<li class="wait timer">timer firing at {_clock(timer.fire_at)} ({_seconds(timer.fire_at - now)} left)</li>'
        for timer in found.timers
    ]
    items += [
        f'<li class="wait lock-requested">lock on {_entity_link(e)} requested</li>' for e in found.locks_requested
    ]
    items += [f'<li class="wait lock-held">lock on {_entity_link(e)} held</li>' for e in found.locks_held]
    items += [_awaited(event, now) for event in found.events_awaited or []]
    if found.events_awaited is None:
        guess = "an external event (nothing else is in flight); " if found.nothing_in_flight else ""
        items.append(
            f'<li class="wait event unknown">{guess}event names unknown: {_e(found.events_awaited_unknown)}</li>'
        )
    received = ", ".join(f"{_e(event.name)} at {_clock(event.at)}" for event in found.events_received)
    events = f'<p class="events-received">Events received: {received}</p>' if received else ""
    return f'<section class="waiting"><h2>Waiting for</h2><ul>{"".join(items)}</ul>{events}</section>'


def _awaited(event: AwaitedEvent, now: datetime) -> str:
    since = f"since {_clock(event.since)} ({_seconds(now - event.since)})"
    return f'<li class="wait event">event <strong>{_e(event.name)}</strong> {since}</li>'


def _in_flight(item: InFlight, now: datetime) -> str:
    since = f"since {_clock(item.since)} ({_seconds(now - item.since)})"
    if item.kind == "sub-orchestration" and item.target:
        what = f"sub-orchestration <strong>{_e(item.name)}</strong> {_instance_link(item.target)}"
    elif item.kind == "entity call" and item.target:
        what = f"entity call <strong>{_e(item.name)}</strong> on {_entity_link(item.target)}"
    else:
        what = f"{_e(item.kind)} <strong>{_e(item.name)}</strong> (task {_e(item.task_id)})"
    return f'<li class="wait {item.kind.replace(" ", "-")}">{what} {since}</li>'


def _instance_link(instance_id: str) -> str:
    return f'<a class="instance-link" href="/instances/{quote(instance_id, safe="")}">{_e(instance_id)}</a>'


def _entity_link(entity_id: str, text: str | None = None) -> str:
    """``@name@key`` as a link to the entity's page."""
    name, _, key = entity_id.removeprefix("@").partition("@")
    href = f"/entities/{quote(name, safe='')}/{quote(key, safe='')}"
    return f'<a class="entity-link" href="{href}">{_e(text or entity_id)}</a>'


def _seconds(delta: timedelta) -> str:
    seconds = max(0.0, delta.total_seconds())
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def entity_table(page: Page, prefix: str, page_size: int, *, first_page: bool) -> str:
    rows = "".join(_entity_row(row) for row in page.rows) or '<tr><td colspan="5">No entities.</td></tr>'
    query: dict[str, list[str] | str] = {"prefix": prefix, "page_size": str(page_size)}
    note = ""
    if prefix and not prefix.startswith("@") and page.next_token:
        note = "(keys are matched here, a few scheduler pages at a time: the next page may hold more)"
    return f"""<form class="filters" method="get" action="/entities">
<label>Key starts with <input name="prefix" value="{_e(prefix)}" placeholder="my, or @counter@my"
list="declared-entities"></label>
{_declared_list("declared-entities", [f"@{name}@" for name in workflows.entities])}
<button type="submit">Filter</button></form>
<div id="live"><table class="entities"><thead><tr><th>Entity</th><th>Key</th><th>State</th><th>Last modified</th>
<th>Backlog</th></tr></thead><tbody>{rows}</tbody></table>
{_pager("/entities", page, query, first_page=first_page, note=note)}</div>"""


def entity_page(row: EntityRow) -> str:
    """One entity: its state as formatted JSON, when it last changed, who holds its lock, what is queued."""
    holder = _instance_link(row.locked_by) if row.locked_by else "nobody"
    facts = [
        ("Entity", _e(row.name)),
        ("Key", _e(row.key)),
        ("Last modified", _time(row.last_modified)),
        ("Locked by", holder),
        ("Pending operations", str(row.backlog)),
        ("State", _json(row.state)),
    ]
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
    return live(f'<table class="facts entity" data-entity="{_e(row.entity_id)}">{rows}</table>')


def _declared_list(list_id: str, names: list[str]) -> str:
    """The declared workflows (``durable_app.workflows.registry``) offered as a filter's suggestions."""
    options = "".join(f'<option value="{_e(name)}">' for name in names)
    return f'<datalist id="{list_id}">{options}</datalist>'


def _pager(path: str, page: Page, query: dict[str, list[str] | str], *, first_page: bool, note: str = "") -> str:
    """Row count and links: back to the first page, on with the scheduler's continuation token."""
    links = [] if first_page else [f'<a class="first" href="{path}?{_query(query)}">&larr; First page</a>']
    if page.next_token:
        following = _query({**query, "token": page.next_token})
        links.append(f'<a class="next" href="{path}?{following}">Next page &rarr;</a>')
    return f'<nav class="pages">{len(page.rows)} shown {" ".join(links)} {_e(note)}</nav>'


def _history_pager(instance_id: str, total: int, history_page: int) -> str:
    """Which steps this page shows, and links to the pages before and after (``?history_page=``)."""
    first = (history_page - 1) * HISTORY_PAGE_STEPS
    last = min(first + HISTORY_PAGE_STEPS, total)
    shown = f"steps {first + 1}-{last} of {total}" if last > first else f"no steps on this page ({total} in all)"
    target = f"/instances/{_e(instance_id)}?history_page="
    links = []
    if history_page > 1:
        links.append(f'<a class="history-first" href="{target}1">&larr; First steps</a>')
        links.append(f'<a class="history-previous" href="{target}{history_page - 1}">Earlier steps</a>')
    if last < total:
        links.append(f'<a class="history-next" href="{target}{history_page + 1}">Later steps &rarr;</a>')
    return f'<nav class="pages history">{shown} {" ".join(links)}</nav>'


def _recent_links(page_size: int) -> str:
    """Links to the newest work, whatever order the scheduler pages in."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    windows = {"5 minutes": timedelta(minutes=5), "hour": timedelta(hours=1), "day": timedelta(days=1)}
    return " &middot; ".join(
        f'<a href="/?{_query({"created_from": (now - delta).isoformat(), "page_size": str(page_size)})}">{label}</a>'
        for label, delta in windows.items()
    )


def _instance_row(row: InstanceRow, now: datetime, *, versions: bool) -> str:
    link = f'<a href="/instances/{_e(row.instance_id)}">{_e(row.instance_id)}</a>'
    version = f'<td class="version">{_e(row.version or "")}</td>' if versions else ""
    return (
        f'<tr data-instance="{_e(row.instance_id)}"><td>{link}</td><td>{_e(row.name)}</td>'
        f"<td>{_status(row.status)}</td><td>{_time(row.created)}</td><td>{_time(row.updated)}</td>"
        f'<td class="duration">{_duration(row, now)}</td>{version}</tr>'
    )


def _duration(row: InstanceRow, now: datetime) -> str:
    """Created to completed; for unfinished work the time so far, marked as running on."""
    if row.duration_seconds is not None:
        return _seconds(timedelta(seconds=row.duration_seconds))
    if row.created is None or row.status in TERMINAL_NAMES:
        return ""
    return f'<span class="ongoing">{_seconds(now - row.created)} so far</span>'


def _entity_row(row: EntityRow) -> str:
    return (
        f'<tr data-entity="{_e(row.entity_id)}"><td>{_e(row.name)}</td><td>{_entity_link(row.entity_id, row.key)}</td>'
        f'<td class="state">{_e(row.state or "")}</td><td>{_time(row.last_modified)}</td><td>{row.backlog}</td></tr>'
    )


def _step_row(step: Step, span: Span) -> str:
    duration = "" if step.duration_ms is None else f"{step.duration_ms:.0f} ms"
    bar = (
        f'<div class="track"><div class="span {step.status.lower()}" '
        f'style="margin-left:min({span.offset:.2%}, 100% - 3px);width:{span.width:.2%}"></div></div>'
    )
    return (
        f'<tr class="step {step.kind.replace(" ", "-")}"><td class="kind">{_e(step.kind)}</td>'
        f'<td class="name">{_step_name(step)}</td><td>{_status(step.status)}</td>'
        f'<td class="started">{_clock(step.started)}</td><td class="ended">{_clock(step.ended)}</td>'
        f'<td class="duration">{duration}</td>'
        f'<td class="bar">{bar}</td><td class="input">{_cell(step.input)}</td>'
        f'<td class="output">{_failure(step.failure) if step.failure else _cell(step.output)}</td></tr>'
    )


def _step_name(step: Step) -> str:
    """The step's name, linking the sub-orchestration or entity it concerns."""
    if step.kind == "sub-orchestration" and step.target:
        return f"{_e(step.name)} {_instance_link(step.target)}"
    if step.kind == "event sent" and step.target:
        return f"{_e(step.name.rsplit(' -> ', 1)[0])} -&gt; {_instance_link(step.target)}"
    if step.kind == "entity lock":
        return ", ".join(_entity_link(entity) for entity in step.name.split(", "))
    if step.target and step.target.startswith("@"):
        operation = step.name.split(" -> ", 1)[0]
        return f"{_e(operation)} -&gt; {_entity_link(step.target)}"
    return _e(step.name)


def _actions(instance_id: str, status: str, token: str) -> str:
    """Buttons for the actions that apply to ``status`` only: no Terminate on a finished instance.

    Each form carries the dashboard's token (``guard.Guard``): a post that no page of this dashboard drew is refused.
    """
    target = f"/instances/{_e(instance_id)}"
    hidden = f'<input type="hidden" name="token" value="{_e(token)}">'
    forms = []
    for action in actions_for(status):
        if action == "raise-event":
            forms.append(
                f'<form method="post" action="{target}/raise-event">{hidden}'
                '<input name="event" placeholder="event name" required>'
                '<input name="data" placeholder="JSON data (optional)">'
                '<button type="submit">Raise event</button></form>'
            )
        else:
            forms.append(
                f'<form method="post" action="{target}/{action}">{hidden}<input type="hidden" name="reason" '
                f'value="dashboard"><button type="submit" name="action" value="{action}">{action.title()}</button>'
                "</form>"
            )
    return f'<div class="actions" data-actions="{" ".join(actions_for(status))}">{"".join(forms)}</div>'


def _failure(details: task.FailureDetails) -> str:
    """An exception in full: type, message, stack trace (folded) and each inner failure it wraps."""
    stack = (
        f'<details class="stack"><summary>Stack trace</summary><pre>{_e(details.stack_trace)}</pre></details>'
        if details.stack_trace
        else ""
    )
    inner = f'<div class="inner">caused by {_failure(details.inner_failure)}</div>' if details.inner_failure else ""
    return (
        f'<div class="failure"><strong class="error-type">{_e(details.error_type)}</strong>: '
        f'<span class="error-message">{_e(details.message)}</span>{stack}{inner}</div>'
    )


def _failed_step(step: Step) -> str:
    """The failing activity, sub-orchestration or entity call by name, with the input it was given."""
    child = f" {_instance_link(step.target)}" if step.kind == "sub-orchestration" and step.target else ""
    return (
        f'<div class="failed-step">{_e(step.kind)} <strong class="name">{_e(step.name)}</strong>{child} '
        f"at {_clock(step.ended)}; input: {_json(step.input)}</div>"
    )


def _status(status: str) -> str:
    return f'<span class="status {status.lower()}">{_e(status)}</span>'


def _time(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _clock(moment: datetime | None) -> str:
    """A history moment to the millisecond; the date, the same for most steps, is in the tooltip."""
    if moment is None:
        return ""
    shown = moment.strftime("%H:%M:%S.%f")[:-3]
    return f'<time datetime="{moment.isoformat()}" title="{moment:%Y-%m-%d} UTC">{shown}</time>'


def _json(text: str | None, whole: str | None = None) -> str:
    """A JSON value, indented; one longer than ``FOLD_CHARS`` shows its start, its size and where the rest is."""
    if text is None:
        return ""
    if len(text) > FOLD_CHARS:
        rest = f' <a href="{whole}">whole value</a>' if whole else " (the API's ?history=true has it all)"
        return (
            f'<pre class="folded">{_e(text[:FOLD_CHARS])}&hellip;</pre>'
            f'<span class="fold-note">{len(text):,} characters in all;{rest}</span>'
        )
    try:
        pretty = json.dumps(json.loads(text), indent=1)
    except ValueError:
        pretty = text
    return f"<pre>{_e(pretty)}</pre>"


def _cell(text: str | None) -> str:
    """A history value: short ones as they are, longer ones folded behind a click that shows them indented."""
    if text is None or len(text) <= CELL_CHARS:
        return _json(text)
    return f'<details class="fold"><summary>{_e(text[:60])}&hellip;</summary>{_json(text)}</details>'


def _query(values: dict[str, list[str] | str]) -> str:
    return urlencode([(k, item) for k, v in values.items() for item in ([v] if isinstance(v, str) else v) if item])


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
