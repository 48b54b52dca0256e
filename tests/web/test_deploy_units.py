"""The supervision shipped in deploy/ (issue 15): systemd units that restart the web and the
workers whatever ends them, and that start commands this install really has."""

from __future__ import annotations

import configparser
import shlex
import sys
from pathlib import Path

import pytest

from engine.queue import JOB_TIMEOUT
from web.cli import main

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BIN = Path(sys.executable).parent


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


@pytest.mark.parametrize("name", ["cqpi-worker@.service", "cqpi-web.service"])
def test_a_unit_restarts_its_process_whatever_ends_it(name: str) -> None:
    service = unit(name)["Service"]
    assert service["Restart"] == "always" and int(service["RestartSec"]) > 0
    command = shlex.split(service["ExecStart"])
    assert (BIN / Path(command[0]).name).exists(), command[0]  # installed by make install


def test_the_worker_unit_starts_a_worker_and_stops_it_warm() -> None:
    service = unit("cqpi-worker@.service")["Service"]
    _, subcommand = shlex.split(service["ExecStart"])
    assert subcommand in main.commands  # type: ignore[attr-defined]
    assert service["KillSignal"] == "SIGTERM"  # a warm stop: the job in hand finishes
    assert int(service["TimeoutStopSec"]) > JOB_TIMEOUT  # longer than a job may run
