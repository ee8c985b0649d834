"""lscpu on ARM boards whose cores it cannot name prints "Model name: -": the CPU is then named by "BIOS Model name"
(the firmware's DMI table) or by a "Model" that is a name ("Rockchip RK3588"), never by the variant number "Model"
usually is (issue 10; real outputs, sources in tests/fixtures/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigfit.probe.cpu_text import parse_lscpu
from tests.doctor_helpers import pasted, read


@pytest.mark.parametrize(
    ("fixture", "model"),
    [
        # "Model name: -" on every cluster, "Model: Rockchip RK3588" on the first
        ("lscpu-model-name-dash--rk3588-cut.txt", "Rockchip RK3588"),
        # a real core name wins over the firmware's SoC name
        ("lscpu-bios-model-name-cut--ampere-altra-q80-30.txt", "Neoverse-N1"),
        # no name at all: "Model: 2" is a variant number, so the model stays unknown
        ("lscpu-no-model-name--phytium-ft2000plus.txt", None),
    ],
)
def test_lscpu_model_names_the_cpu_only_when_it_is_a_name(fixture: str, model: str | None) -> None:
    assert parse_lscpu(read(fixture)).model == model


def test_doctor_names_the_rk3588_board_cpu(tmp_path: Path) -> None:
    profile = pasted(tmp_path, "lscpu", read("lscpu-model-name-dash--rk3588-cut.txt"))
    assert (profile.cpu.arch, profile.cpu.model, profile.cpu.threads) == ("aarch64", "Rockchip RK3588", 8)
