"""The cqpi command: validate, migrate, deploy, and `cqpi run` serving /healthz."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from tests.conftest import BPMN
from web.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return {"CQPI_DATA_DIR": str(tmp_path), "CQPI_LOG_LEVEL": "WARNING"}


def test_validate_prints_one_line_per_problem_and_exits_1(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["validate", str(BPMN / "flow.bpmn")], env=env)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    # the production catalog has neither test.echo nor test_form, and delivers no "reply"
    flow = BPMN / "flow.bpmn"
    assert len(lines) == 4
    assert lines[0].startswith(f"{flow}:35: Task_Publish (发布公示): 未知的服务操作“test.echo”"
                               "（已注册: ")
    assert "publicity.open" in lines[0]
    assert lines[1].startswith(f"{flow}:25: Task_Enter (填写申请): 未知的表单“test_form”")
    assert lines[2].startswith(f"{flow}:53: Event_Reply (收到答复): 未知的消息“reply”")
    assert lines[3].startswith(f"{flow}:25: Task_Enter (填写申请): 泳道“applicant”没有对应的"
                               "办理角色")


def test_validate_accepts_a_good_file(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["validate", str(BPMN / "minimal.bpmn")], env=env)
    assert result.exit_code == 0, result.output


def test_validate_reports_a_missing_file(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["validate", "/no/such.bpmn"], env=env)
    assert result.exit_code == 1
    assert "/no/such.bpmn:0: - (-): 文件不存在" in result.output


def test_deploy_twice_keeps_the_version(env: dict[str, str]) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["migrate"], env=env).exit_code == 0
    first = runner.invoke(main, ["deploy", str(BPMN / "minimal.bpmn")], env=env)
    assert "minimal v1" in first.output and "已部署" in first.output
    again = runner.invoke(main, ["deploy", str(BPMN / "minimal.bpmn")], env=env)
    assert "minimal v1" in again.output and "内容与当前版本 1 相同，未产生新版本" in again.output
    bad = runner.invoke(main, ["deploy", str(BPMN / "flow.bpmn")], env=env)
    assert bad.exit_code == 1


def _two_versions(env: dict[str, str], tmp_path: Path) -> CliRunner:
    """minimal.bpmn deployed, then a changed copy: versions 1 and 2, the second current."""
    runner = CliRunner()
    assert runner.invoke(main, ["migrate"], env=env).exit_code == 0
    changed = tmp_path / "minimal.bpmn"
    changed.write_text((BPMN / "minimal.bpmn").read_text().replace("最小流程", "最小流程二"))
    for path in (BPMN / "minimal.bpmn", changed):
        assert runner.invoke(main, ["deploy", str(path)], env=env).exit_code == 0
    return runner


def test_deploying_an_earlier_file_again_makes_it_current(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    runner = _two_versions(env, tmp_path)
    again = runner.invoke(main, ["deploy", str(BPMN / "minimal.bpmn")], env=env)
    assert "minimal v1" in again.output
    assert "已重新启用版本 1（此前的当前版本为 2）" in again.output


def test_activate_rolls_back_to_an_earlier_version(env: dict[str, str],
                                                  tmp_path: Path) -> None:
    runner = _two_versions(env, tmp_path)
    back = runner.invoke(main, ["activate", "minimal", "1"], env=env)
    assert back.exit_code == 0 and "已将版本 1 设为当前版本（此前为版本 2）" in back.output
    same = runner.invoke(main, ["activate", "minimal", "1"], env=env)
    assert "版本 1 已是当前版本，未作更改" in same.output
    missing = runner.invoke(main, ["activate", "minimal", "9"], env=env)
    assert missing.exit_code == 1 and "9" in missing.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], explain: Callable[[], str],
                 seconds: float = 60) -> None:
    """Wait until the server at ``url`` answers /healthz with 200; fail with ``explain()``
    (e.g. its log) when it exits or does not answer in time."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert proc.poll() is None, f"exited with {proc.returncode}\n{explain()}"
        assert time.monotonic() < deadline, f"no answer within {seconds} s\n{explain()}"
        time.sleep(0.2)


def test_cqpi_run_serves_healthz_with_nothing_installed(tmp_path: Path) -> None:
    """`make run` on a bare machine: SQLite and the in-process queue, /healthz answers 200."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CQPI_DATA_DIR=str(tmp_path), PORT=str(port))
    cqpi = Path(sys.executable).parent / "cqpi"
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(cqpi), "run"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log.read_text)
        assert (tmp_path / "cqpi.sqlite3").exists()
        url = f"http://127.0.0.1:{port}/national-sim/healthz"
        with urllib.request.urlopen(url, timeout=5) as r:  # the built-in simulator
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_demo_loads_once(env: dict[str, str]) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "新增用户 11 个，项目 4 个" in first.output
    again = runner.invoke(main, ["demo"], env=env)
    assert "新增用户 0 个，项目 0 个" in again.output


def test_gunicorn_loads_the_app_as_the_readme_says(tmp_path: Path) -> None:
    """Production serves `gunicorn 'web:create_app()'` (README); the app must load so."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CQPI_DATA_DIR"] = str(tmp_path)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    result = subprocess.run([str(gunicorn), "--check-config", "web:create_app()"], env=env,
                            cwd=Path(__file__).resolve().parents[2], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
