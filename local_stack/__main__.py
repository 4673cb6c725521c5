"""``python -m local_stack``: run the whole local stack, or one part of it.

run         scheduler (gRPC) + Functions host (HTTP) + dashboard, as child processes
scheduler   the scheduler alone (for ``func start`` users without the DTS emulator)
host        the Functions host alone, against whatever scheduler the settings name
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from durable_app.settings.catalog import LOCAL_FUNCTION_KEY, TASKHUB, TASKHUB_NAME
from local_stack import LOG_FORMAT
from local_stack.ports import PortInUseError, ensure_free, wait_for_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_SECONDS = 15
KEEP_ALIVE_SECONDS = 130
"""Idle keep-alive of the local host, as the Functions host's: far above clients' own idle expiry (httpx: 5 s),
so a client never sends on a connection the server is closing at that moment."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        return args.command(args)
    except PortInUseError as error:
        logging.getLogger("local_stack").error("%s", error)
        return 2


def run_scheduler(args: argparse.Namespace) -> int:
    from local_stack.scheduler import StoreError, serve

    ensure_free(args.host, args.port, "The scheduler", "--port")
    logging.getLogger("durabletask.testing").setLevel(logging.WARNING)
    data_file = _data_file(args)
    try:
        scheduler = serve(args.port, args.host, data_file=data_file)
    except StoreError as error:
        logging.getLogger("local_stack").error("The scheduler cannot use its data file: %s", error)
        return 2
    kept = f"state in {data_file}" if data_file else "state in memory only"
    print(f"Scheduler (DTS gRPC protocol) on http://{args.host}:{args.port} ({kept})", flush=True)
    _wait_for_signal()
    scheduler.stop(grace=1)
    return 0


def run_host(args: argparse.Namespace) -> int:
    """Serve the app's HTTP triggers, in ``FUNCTIONS_WORKER_PROCESS_COUNT`` worker processes (default 1)."""
    import uvicorn

    from durable_app.http.host_config import route_prefix
    from local_stack.functions_host import create_asgi_app, load_function_app, load_local_settings
    from local_stack.functions_host.processes import serve_processes, worker_process_count

    ensure_free(args.host, args.port, "The Functions host", "--port")
    load_local_settings()
    try:
        processes = worker_process_count()
    except ValueError as error:
        logging.getLogger("local_stack").error("%s", error)
        return 2
    if args.function_key:
        os.environ[LOCAL_FUNCTION_KEY.name] = args.function_key
    options = {
        "host": args.host,
        "port": args.port,
        "log_level": "info",
        "access_log": not args.quiet,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }
    banner = f"Functions host on http://{args.host}:{args.port}/{route_prefix()}"
    if processes > 1:
        print(f"{banner} ({processes} worker processes)", flush=True)
        factory = "local_stack.functions_host.processes:asgi_app"
        serve_processes(uvicorn.Config(factory, factory=True, workers=processes, **options))
        return 0
    app = load_function_app()
    asgi = create_asgi_app(app, route_prefix(), function_key=LOCAL_FUNCTION_KEY.read(os.environ))
    server = uvicorn.Server(uvicorn.Config(asgi, **options))
    # Served from a thread so this thread owns SIGINT/SIGTERM: uvicorn then installs no handlers of its own and
    # a stop is a clean return instead of a re-raised KeyboardInterrupt.
    serving = threading.Thread(target=server.run, name="uvicorn")
    serving.start()
    print(banner, flush=True)
    _wait_for_signal(threads=[serving])
    server.should_exit = True
    serving.join(timeout=30)
    return 0


def run_all(args: argparse.Namespace) -> int:
    """Start every part as its own process, so restarting the app never loses scheduler state."""
    host = args.host
    ensure_free(host, args.scheduler_port, "The scheduler", "--scheduler-port")
    ensure_free(host, args.http_port, "The Functions host", "--http-port")
    if args.dashboard_port:
        ensure_free(host, args.dashboard_port, "The dashboard", "--dashboard-port")
    env = dict(os.environ)
    taskhub = TASKHUB_NAME.read(env) or TASKHUB.default
    endpoint = f"http://{host}:{args.scheduler_port}"
    env["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"] = f"Endpoint={endpoint};TaskHub={taskhub};Authentication=None"
    python = [sys.executable, "-m", "local_stack"]
    scheduler = [*python, "scheduler", "--host", host, "--port", str(args.scheduler_port), *_store_arguments(args)]
    stop = _stop_on_signal()  # from here on, Ctrl-C (even while starting) stops every child started so far
    children = [_spawn(scheduler, env)]
    if not _listening(children[0], host, args.scheduler_port, 30, stop):
        return _stop(children, None if stop.is_set() else "the scheduler did not start; its message is above")
    children.append(_spawn([*python, "host", "--host", host, "--port", str(args.http_port)], env))
    if args.dashboard_port:
        dashboard = [*python, "dashboard", "--host", host, "--port", str(args.dashboard_port)]
        children.append(_spawn([*dashboard, "--endpoint", endpoint, "--taskhub", taskhub], env))
    if not _listening(children[1], host, args.http_port, HOST_START_SECONDS, stop):
        return _stop(children, None if stop.is_set() else "the Functions host did not start; its message is above")
    _print_banner(args, endpoint)
    _wait_for_signal(children, stop=stop)
    return _stop(children, None)


HOST_START_SECONDS = 60
"""How long the Functions host may take to listen (importing the app and its workflows); it is given up on at
once if it exits first, as it does on a workflow module that fails to import."""


def _listening(child: subprocess.Popen[bytes], host: str, port: int, timeout: float, stop: threading.Event) -> bool:
    """Whether ``child`` listens on ``port`` within ``timeout``; ``False`` as soon as it exits or a stop is asked."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        if child.poll() is not None:
            return False
        if wait_for_port(host, port, 0.5):
            return True
    return False


def _data_file(args: argparse.Namespace) -> Path | None:
    """The scheduler's SQLite file, or ``None`` for in-memory state."""
    if args.store == "memory":
        return None
    return args.data_file if args.data_file.is_absolute() else PROJECT_ROOT / args.data_file


def _store_arguments(args: argparse.Namespace) -> list[str]:
    """The ``run`` command's storage options, passed on to its scheduler."""
    return ["--store", args.store, "--data-file", str(args.data_file)]


def _print_banner(args: argparse.Namespace, endpoint: str) -> None:
    lines = [
        "",
        "Local stack running (Ctrl-C stops everything):",
        f"  Functions HTTP API  http://{args.host}:{args.http_port}/api   (health: /api/health)",
        f"  Scheduler (gRPC)    {endpoint}",
        f"  Scheduler state     {_data_file(args) or 'in memory only (--store memory)'}",
    ]
    if args.dashboard_port:
        lines.append(f"  Dashboard           http://{args.host}:{args.dashboard_port}")
    print("\n".join([*lines, ""]), flush=True)


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A child in its own session: a terminal's Ctrl-C reaches only this process, which stops them in order."""
    return subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True)  # noqa: S603


def _stop(children: list[subprocess.Popen[bytes]], failure: str | None) -> int:
    """Stop the app's processes together, then the scheduler, and say so in a last line.

    The host and the dashboard share nothing, so they stop at once; the scheduler stops only after them, so no
    call of the app's is cut off (what the scheduler acknowledged is already in its store).
    """
    started = time.monotonic()
    scheduler, *app = children
    for group in (app, [scheduler]):
        for child in group:
            if child.poll() is None:  # each stops on SIGTERM as on SIGINT; one still importing dies quietly
                child.send_signal(signal.SIGTERM)
        for child in group:
            failure = _wait_stopped(child) or failure
    seconds = time.monotonic() - started
    if failure:
        logging.getLogger("local_stack").error("Stopped: %s", failure)
        return 1
    print(f"Local stack stopped ({seconds:.1f} s)", flush=True)
    return 0


def _wait_stopped(child: subprocess.Popen[bytes]) -> str | None:
    """Wait for ``child`` to exit, killing it past the timeout; why, if it had to be killed."""
    try:
        child.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        return f"{' '.join(str(part) for part in child.args[3:5])} did not stop within {STOP_TIMEOUT_SECONDS} s; killed"
    return None


def _stop_on_signal() -> threading.Event:
    """An event SIGINT and SIGTERM set, instead of interrupting whatever this process is doing."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _wait_for_signal(
    children: list[subprocess.Popen[bytes]] | None = None,
    threads: list[threading.Thread] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Block until SIGINT/SIGTERM, or until any child process or serving thread ends."""
    stop = stop or _stop_on_signal()
    while not stop.wait(0.5):
        if children and any(child.poll() is not None for child in children):
            logging.getLogger("local_stack").error("A local stack process exited; stopping the others")
            return
        if threads and not all(thread.is_alive() for thread in threads):
            return


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True)

    run = commands.add_parser("run", help="scheduler + Functions host + dashboard")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--scheduler-port", type=int, default=8080)
    run.add_argument("--http-port", type=int, default=7071)
    run.add_argument("--dashboard-port", type=int, default=8082, help="0 disables the dashboard")
    _add_store_options(run)
    run.set_defaults(command=run_all)

    scheduler = commands.add_parser("scheduler", help="the scheduler alone")
    scheduler.add_argument("--host", default="127.0.0.1")
    scheduler.add_argument("--port", type=int, default=8080)
    _add_store_options(scheduler)
    scheduler.set_defaults(command=run_scheduler)

    host = commands.add_parser("host", help="the Functions host alone")
    host.add_argument("--host", default="127.0.0.1")
    host.add_argument("--port", type=int, default=7071)
    host.add_argument("--function-key", help="require this key on non-anonymous routes (or LOCAL_FUNCTION_KEY)")
    host.add_argument("--quiet", action="store_true", help="no access log")
    host.set_defaults(command=run_host)

    dashboard = commands.add_parser("dashboard", help="the dashboard alone")
    dashboard.add_argument("--host", default="127.0.0.1")
    dashboard.add_argument("--port", type=int, default=8082)
    dashboard.add_argument("--endpoint", default="http://localhost:8080")
    dashboard.add_argument("--taskhub", default="default")
    dashboard.set_defaults(command=run_dashboard)
    return parser


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    from local_stack.scheduler import DEFAULT_DATA_FILE

    parser.add_argument(
        "--store",
        choices=("sqlite", "memory"),
        default="sqlite",
        help="keep the scheduler's state in a SQLite file (survives restarts; default) or in memory only",
    )
    parser.add_argument(
        "--data-file",
        type=Path,
        default=DEFAULT_DATA_FILE,
        help=f"the SQLite file, relative to the project folder unless absolute (default {DEFAULT_DATA_FILE})",
    )


def run_dashboard(args: argparse.Namespace) -> int:
    from local_stack.dashboard import serve as serve_dashboard

    ensure_free(args.host, args.port, "The dashboard", "--port")
    return serve_dashboard(host=args.host, port=args.port, endpoint=args.endpoint, taskhub=args.taskhub)


if __name__ == "__main__":
    sys.exit(main())
