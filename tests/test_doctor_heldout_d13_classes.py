"""Round heldd13's class (issue 10): the device lines SD UIs, trainers and torch print about the GPU torch uses
(SD.Next's "Device: device=...", InvokeAI's "Using torch device:", OneTrainer's "NVIDIA GPU (Index N):", a launcher's
"CUDA Driver" rows, torch's "Found GPU0 ... which is of cuda capability"). Every real fixture is swept: only lines of
these kinds name a device, so unrelated logs and tool outputs match nothing."""

from __future__ import annotations

from rigfit.probe.gpu.app_devices import AppDevice, parse_app_devices
from rigfit.probe.gpu.paste import clean_lines
from tests.conftest import FIXTURES

# fixture -> (index, name, compute capability, bus id) of each device its device lines name, and the driver they print
EXPECTED: dict[str, tuple[list[tuple[int, str, str | None, str | None]], str | None]] = {
    "logs/cuda-arch-missing--comfyui-gtx1060-sm61-min-max-range-warning.txt": (
        [(0, "NVIDIA GeForce GTX 1060 6GB", "6.1", None)],
        None,
    ),
    "logs/cuda-cc-too-old--a1111-gt710.txt": ([(0, "GeForce GT 710", "3.5", None)], None),
    "logs/cuda-cc-too-old--a1111-titan-black.txt": ([(0, "NVIDIA GTX TITAN Black", "3.5", None)], None),
    "logs/cuda-cc-too-old--avatarify-gtx660ti.txt": ([(0, "GeForce GTX 660 Ti", "3.0", None)], None),
    "logs/cuda-cc-too-old--fermi-gtx670m-windows.txt": ([(0, "GeForce GTX 670M", "2.1", None)], None),
    "logs/cuda-cc-too-old--voice-changer-gt720.txt": ([(0, "GeForce GT 720", "3.5", None)], None),
    "doctor/sdnext-device-line-rtx5090-cap-12-0-cuda12.6-arch-sm90--576.02.txt": (
        [(0, "NVIDIA GeForce RTX 5090", "12.0", None)],
        "576.02",
    ),
    "doctor/invokeai-console-rtx5090-laptop-cudnn91900.txt": (
        [(0, "NVIDIA GeForce RTX 5090 Laptop GPU", None, None)],
        None,
    ),
    "doctor/onetrainer-debug-system-info-cut-in-pip-freeze--rtx3060-572.70.txt": (
        [(0, "NVIDIA GeForce RTX 3060", None, None)],
        "572.70",
    ),
    "doctor/comfyui-launcher-diagnostic--rtx4090-572.70-plus-uhd770.txt": (
        [(0, "NVIDIA GeForce RTX 4090", "8.9", "00000000:01:00.0")],
        None,
    ),
    "doctor/forge-neo-torch-warning-gtx1060-sm61-min-7.5--windows.txt": (
        [(0, "NVIDIA GeForce GTX 1060", "6.1", None)],
        None,
    ),
    # torch's "... with CUDA capability sm_NN is not compatible" line names the card too (leftover12)
    "logs/cuda-arch--comfyui-portable-5070ti-sm120.txt": ([(None, "NVIDIA GeForce RTX 5070 Ti", "12.0", None)], None),
    "logs/sm-not-compatible--aitoolkit-5060ti-sm120.txt": ([(None, "NVIDIA GeForce RTX 5060 Ti", "12.0", None)], None),
    "logs/sm-not-compatible--forge-nix-journal-5090.txt": ([(None, "NVIDIA GeForce RTX 5090", "12.0", None)], None),
    "logs/sm-not-compatible--gtx1070ti-sm61-cu111.txt": ([(None, "GeForce GTX 1070 Ti", "6.1", None)], None),
    "logs/sm-not-compatible--onetrainer-5070ti-sm120.txt": ([(None, "NVIDIA GeForce RTX 5070 Ti", "12.0", None)], None),
    "logs/sm-not-compatible--rtx5080-sm120.txt": (
        [(None, "NVIDIA GeForce RTX 5080 Laptop GPU", "12.0", None)],
        None,
    ),
}


def _tuple(d: AppDevice) -> tuple[int | None, str | None, str | None, str | None]:
    return (d.index, d.name, d.compute_capability, d.bdf)


def test_only_device_lines_name_a_device_across_every_real_fixture() -> None:
    seen = {}
    for path in sorted([*FIXTURES.glob("logs/*.txt"), *FIXTURES.glob("doctor/*.txt")]):
        found = parse_app_devices(clean_lines(path.read_text(encoding="utf-8", errors="replace")))
        if found.devices or found.driver:
            seen[str(path.relative_to(FIXTURES))] = ([_tuple(d) for d in found.devices], found.driver)
    assert seen == EXPECTED


def test_a_device_name_ending_the_cut_paste_is_not_trusted() -> None:
    text = (FIXTURES / "doctor/invokeai-console-rtx5090-laptop-cudnn91900.txt").read_text(encoding="utf-8")
    lines = clean_lines(text)
    upto = next(n for n, ln in enumerate(lines) if "Using torch device:" in ln)
    assert parse_app_devices(lines[: upto + 1]).devices == []  # the paste ends on the name: it may be cut
    assert [d.name for d in parse_app_devices(lines[: upto + 2]).devices] == ["NVIDIA GeForce RTX 5090 Laptop GPU"]


def test_sdnext_driver_on_the_wrapped_line_is_read_and_a_cpu_device_is_no_gpu() -> None:
    lines = clean_lines(
        (FIXTURES / "doctor/sdnext-device-line-rtx5090-cap-12-0-cuda12.6-arch-sm90--576.02.txt").read_text()
    )
    assert parse_app_devices(lines).driver == "576.02"
    invoke = clean_lines((FIXTURES / "doctor/invokeai-console-rtx5090-laptop-cudnn91900.txt").read_text())
    as_cpu = [ln.replace("NVIDIA GeForce RTX 5090 Laptop GPU", "CPU") for ln in invoke]
    assert parse_app_devices(as_cpu).devices == []
