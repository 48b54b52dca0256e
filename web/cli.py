"""The ``cqpi`` command: run, worker, validate, deploy, migrate, tick, users."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

PROCESSES = Path(__file__).resolve().parent.parent / "processes"
SIMULATOR_PATH = "/national-sim"
CONTROL_ENV = "CQPI_NATIONAL_SIM_CONTROL"
"""Set to 1 to enable the simulator's controls (tests, demos of failures)."""


def _app() -> Flask:
    from . import create_app

    return create_app()


def _read(paths: list[Path]) -> tuple[list[tuple[str, bytes]], list[Any]]:
    """The deployment files of ``paths`` (files, folders, zips) and what could not be read."""
    from engine.package import read_paths

    return read_paths(paths)


@click.group()
def main() -> None:
    """cqpi: the workflow service of Chongqing's project information procedures."""
    logging.basicConfig(level=os.environ.get("CQPI_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
def migrate() -> None:
    """Bring the database schema and its reference data up to date."""
    from .database import prepare

    prepare(_app())


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check a deployment (BPMN files, folders or zips with their forms); print
    FILE:LINE: ELEMENT_ID (NAME): message per problem."""
    from engine import catalog
    from engine.definitions import check

    found, problems = _read(list(files))
    with _app().app_context():
        result = check(found, catalog())
    problems = problems + result.problems
    for problem in problems:
        click.echo(str(problem))
    if problems:
        sys.exit(1)
    click.echo(f"{len(found)} 个文件通过校验")


def _deploy(app: Flask, files: list[Path], reactivate: bool = True) -> None:
    import engine
    from registry import deployments

    with app.app_context():
        try:
            found, unreadable = _read(files)
            if unreadable:
                raise engine.DefinitionInvalid(unreadable)
            outcomes = deployments.deploy(found, "cli", reactivate=reactivate)
        except engine.DefinitionInvalid as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(1)
    for o in outcomes:
        click.echo(f"{o.key} v{o.version} ({o.file_name}): {deployments.said(o)}")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
def deploy(files: tuple[Path, ...]) -> None:
    """Deploy BPMN files (default: processes/*.bpmn); each changed process gets a new version,
    and a file equal to an earlier version makes that version current again."""
    paths = list(files) or sorted(PROCESSES.glob("*.bpmn"))
    if not paths:
        click.echo("没有要部署的 BPMN 文件")
        return
    _deploy(_app(), paths)


@main.command()
@click.argument("key")
@click.argument("version", type=click.IntRange(1))
def activate(key: str, version: int) -> None:
    """Make VERSION of process KEY the one new instances start (a rollback; audited as done
    by cli). Running instances keep their version."""
    from engine.errors import NotFound
    from registry import deployments

    with _app().app_context():
        try:
            done = deployments.activate(key, version, "cli")
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{key}: {deployments.said_activation(version, done)}")


@main.command()
def demo() -> None:
    """Load the demo organisations, users of every role and projects (idempotent)."""
    from registry import demo as demo_data

    from .database import prepare

    app = _app()
    prepare(app)
    with app.app_context():
        added = demo_data.load()
    click.echo(f"演示数据: 新增用户 {added['users']} 个，项目 {added['projects']} 个；"
               f"演示密码 {demo_data.PASSWORD}")


@main.group()
def users() -> None:
    """Manage users' sign-ins."""


@users.command("revoke")
@click.argument("username")
def revoke_sessions(username: str) -> None:
    """End every page session and API token of USERNAME (audited as done by cli)."""
    import sqlalchemy as sa

    from engine.db import db
    from registry import sessions
    from registry.models import User

    with _app().app_context():
        user = db.session.scalar(sa.select(User).filter_by(username=username))
        if user is None:
            raise click.ClickException(f"用户 {username} 不存在")
        ended = sessions.revoke_all(user, "cli")
        db.session.commit()
    click.echo(f"已注销用户 {username} 的 {ended} 个登录会话（页面与接口令牌）")


@main.command()
@click.option("--check", is_flag=True, help="Exit 1 when a rule has no element or no test.")
def rules(check: bool) -> None:
    """Print each rule of docs/guide/RULES.md with its BPMN elements and tests."""
    from registry.traceability import gaps, matrix

    table = matrix()
    for rule in table:
        click.echo(f"{rule.id}  {rule.text[:60]}")
        click.echo(f"    元素: {'; '.join(rule.elements) or '（无）'}")
        click.echo(f"    测试: {'; '.join(rule.tests) or '（无）'}")
    missing = gaps(table)
    covered = len(table) - len(missing)
    click.echo(f"\n{covered}/{len(table)} 条规则既有流程元素又有测试")
    if check and missing:
        for line in missing:
            click.echo(line, err=True)
        sys.exit(1)


@main.command("national-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5100, show_default=True)
@click.option("--token", envvar="CQPI_NATIONAL_TOKEN", default=None,
              help="Bearer token its API requires (default: CQPI_NATIONAL_TOKEN, else a new "
                   "one, printed).")
@click.option("--control/--no-control", envvar=CONTROL_ENV, default=False, show_default=True,
              help="Enable POST /_control (make it fail or slow) and GET /_pushes.")
def national_sim(host: str, port: int, token: str | None, control: bool) -> None:
    """Serve the national-platform simulator."""
    from handlers.national.simulator import create_simulator

    if not token:
        token = secrets.token_urlsafe(24)
        click.echo(f"令牌（CQPI_NATIONAL_TOKEN）: {token}")
    click.echo(f"全国平台模拟器运行于 http://{host}:{port}"
               f"{'（控制接口已开启）' if control else ''}")
    create_simulator(token, control=control).run(host=host, port=port, threaded=True,
                                                 use_reloader=False)


@main.command()
def tick() -> None:
    """Enqueue due jobs and timers once (the worker does this every second)."""
    from engine.jobs import tick as run_tick

    with _app().app_context():
        click.echo(run_tick())


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """Run an rq worker with the scheduler tick (needs REDIS_URL)."""
    from engine.worker import run_worker

    from .embedded import watch_parent

    app = _app()
    if not app.config["REDIS_URL"]:
        raise click.UsageError(
            "cqpi worker 需要 REDIS_URL；嵌入模式下作业由 cqpi run 启动的进程执行")
    watch_parent()
    run_worker(app, burst=burst)


@main.command("queue-server", hidden=True)
@click.option("--port", type=int, required=True)
def queue_server(port: int) -> None:
    """The embedded default's in-memory queue on a loopback port (started by cqpi run, which
    passes the password in REDIS_URL)."""
    from urllib.parse import urlsplit

    from .embedded import serve_queue

    password = urlsplit(os.environ.get("REDIS_URL", "")).password
    if not password:
        raise click.UsageError("cqpi queue-server 由 cqpi run 启动（REDIS_URL 须带密码）")
    serve_queue(port, password)


def _mount_simulator(app: Flask, host: str, port: int) -> None:
    """Without a national platform configured, serve the simulator under /national-sim and
    push to it, so that a demo application goes all the way to "pushed"."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from handlers.national.simulator import create_simulator

    token = app.config.get("CQPI_NATIONAL_TOKEN") or secrets.token_urlsafe(24)
    control = os.environ.get(CONTROL_ENV, "").lower() in ("1", "true", "yes")
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, {SIMULATOR_PATH: create_simulator(token, control=control)})
    app.config["CQPI_NATIONAL_URL"] = f"http://{host}:{port}{SIMULATOR_PATH}"
    app.config["CQPI_NATIONAL_TOKEN"] = token
    click.echo(f"未配置 CQPI_NATIONAL_URL: 使用内置的全国平台模拟器 {SIMULATOR_PATH}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "5000")))
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Load the demo data (idempotent).")
@click.option("--workers", type=click.IntRange(1, 16), show_default=True,
              default=lambda: int(os.environ.get("CQPI_EMBEDDED_WORKERS", "2")),
              help="Embedded mode: worker processes beside the web process.")
@click.option("--background", type=click.Choice(["processes", "threads"]), default="processes",
              show_default=True, help="Embedded mode: background work in worker processes "
              "of its own, or in threads of the web process (one process in all).")
def run(host: str, port: int, demo: bool, workers: int, background: str) -> None:
    """Migrate, load demo data, deploy processes/, serve; without REDIS_URL (the embedded
    default) the queue and the workers are started here too."""
    from .database import prepare

    children = None
    if not os.environ.get("REDIS_URL") and background == "processes":
        from engine.queue import queues

        from .embedded import CONCURRENCY, Admission, Background

        children = Background(workers)
        os.environ["REDIS_URL"] = children.start_queue()  # the web process and the workers
    try:
        app = _app()
        prepare(app)
        _prepare_run(app, host, port, demo)
        if children is not None:
            children.start_workers()
            limit = int(os.environ.get("CQPI_EMBEDDED_CONCURRENCY", CONCURRENCY))
            if limit > 0:
                app.wsgi_app = Admission(  # type: ignore[method-assign]
                    app.wsgi_app, limit, exempt=("/healthz", SIMULATOR_PATH),
                    backlog=lambda: int(queues(app).queue.count))
            _stop_on_sigterm()
            click.echo(f"嵌入模式: SQLite + 自带的内存队列与 {workers} 个作业进程")
        elif not app.config["REDIS_URL"]:
            from engine.worker import start_embedded

            start_embedded(app)
            click.echo("嵌入模式: SQLite + 进程内作业线程")
        click.echo(f"cqpi 运行于 http://{host}:{port}")
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        if children is not None:
            children.stop()


def _prepare_run(app: Flask, host: str, port: int, demo: bool) -> None:
    """Demo data, the processes/ diagrams, and the simulator when no platform is set."""
    if demo:
        from registry import demo as demo_data

        with app.app_context():
            demo_data.load()
        app.config["CQPI_DEMO_USERS"] = [(u, name, role) for u, name, role, _o, _j in
                                         demo_data.USERS]  # shown on the sign-in page
    paths = sorted(PROCESSES.glob("*.bpmn"))
    if paths:  # an earlier version's file does not undo an analyst's rollback here
        _deploy(app, paths, reactivate=False)
    if not app.config.get("CQPI_NATIONAL_URL"):
        _mount_simulator(app, host, port)
        os.environ["CQPI_NATIONAL_URL"] = app.config["CQPI_NATIONAL_URL"]  # for the workers
        os.environ["CQPI_NATIONAL_TOKEN"] = app.config["CQPI_NATIONAL_TOKEN"]


def _stop_on_sigterm() -> None:
    """SIGTERM ends ``cqpi run`` as Ctrl-C does, so that its children are stopped too."""
    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    main()
