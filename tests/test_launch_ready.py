"""A UI is up when its health path answers AND, for Forge/A1111, its ready line is in the log: their webui.py mounts
/internal/ping before /sdapi (create_api) and the extensions' routes, so a ping alone once let `rigfit launch` say
"answers" while the API still gave 404 (CI: test_listen_turns_on_the_api_login)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from rigfit.launch.health import LogFollower, StartWatch, wait_until_up
from rigfit.launch.process import start_detached, stop_group
from rigfit.plan.knowledge import ui_entry
from tests.conftest import fixture_text

# a UI stand-in: prints Forge's real start lines, answers /internal/ping at once, and prints its ready line only
# once the test opens the gate (Forge: after create_api and the extensions' callbacks)
FAKE_START = """
import http.server, pathlib, sys, threading, time
lines, gate, port = pathlib.Path(sys.argv[1]).read_text().splitlines(), pathlib.Path(sys.argv[2]), int(sys.argv[3])
class Ping(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/internal/ping" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), Ping)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("\\n".join(lines), flush=True)
while not gate.exists():
    time.sleep(0.05)
print("Startup time: 24.1s (prepare environment: 0.1s, import torch: 9.8s, add APIs: 0.3s).", flush=True)
time.sleep(120)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_forge_is_not_up_until_its_ready_line(tmp_path: Path) -> None:
    forge = ui_entry("forge")
    assert forge.ready_line is not None
    start_lines = tmp_path / "start.txt"
    start_lines.write_text(fixture_text("launch/forge-start-cpu.txt"))
    gate, log, port = tmp_path / "gate", tmp_path / "ui.log", free_port()
    script = [sys.executable, "-c", FAKE_START, str(start_lines), str(gate), str(port)]
    pid, ticks = start_detached(script, tmp_path, dict(os.environ), log)
    try:
        url = f"http://127.0.0.1:{port}{forge.health}"
        watch = StartWatch(LogFollower(log), forge.start_phases, forge.ready_line, None)
        early = wait_until_up(url, pid, ticks, watch, timeout=3)
        assert early.status == "timeout"  # the ping answered all along; the ready line had not come
        assert early.phase == "loading the model"  # the last start phase of the real log
        gate.touch()
        assert wait_until_up(url, pid, ticks, watch, timeout=30).status == "up"
    finally:
        stop_group(pid, ticks, grace=5)


def test_a_ui_without_a_ready_line_is_up_when_it_answers(tmp_path: Path) -> None:
    comfy = ui_entry("comfyui")
    assert comfy.ready_line is None  # /system_stats is mounted with every other route
    port, log = free_port(), tmp_path / "ui.log"
    script = [sys.executable, "-c", FAKE_START, os.devnull, str(tmp_path / "never"), str(port)]
    pid, ticks = start_detached(script, tmp_path, dict(os.environ), log)
    try:
        watch = StartWatch(LogFollower(log), comfy.start_phases, comfy.ready_line, None)
        assert wait_until_up(f"http://127.0.0.1:{port}/internal/ping", pid, ticks, watch, timeout=30).status == "up"
    finally:
        stop_group(pid, ticks, grace=5)


def test_the_ready_line_is_the_one_real_forge_and_a1111_logs_print() -> None:
    import re

    for ui, log in [
        ("a1111", "logs/unrelated/a1111-startup-ok.txt"),
        ("a1111", "logs/unrelated/a1111-v1-normal-start.txt"),
        ("forge", "logs/unrelated/forge-neo-startup-ok-4060ti.txt"),
    ]:
        ready = ui_entry(ui).ready_line
        assert ready is not None
        assert [line for line in fixture_text(log).splitlines() if re.search(ready, line)], log
