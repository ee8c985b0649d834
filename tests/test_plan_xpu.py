"""Intel Arc / Core Ultra GPUs (issue 10): `rigfit plan` picks PyTorch's XPU build (its own index) for a UI that runs
on torch.xpu (ComfyUI), and keeps the CPU, saying why, for the UIs that do not (uis.yaml `xpu`). Fed the real clinfo
paste of an Arc A770 (tests/fixtures/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigfit.env.disk import install_need
from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from rigfit.probe.profile import Profile
from tests.doctor_helpers import pasted, read


@pytest.fixture
def arc_a770(tmp_path: Path) -> Profile:
    profile = pasted(tmp_path, "lspci", read("clinfo-quoted--arc-a770-56a0.txt"))
    assert [(g.vendor, g.pci_id) for g in profile.gpus] == [("intel", "8086:56a0")]
    return profile


@pytest.mark.parametrize("ui", ["comfyui", "invokeai"])
def test_a_ui_on_torch_xpu_gets_the_xpu_build_from_its_index(arc_a770: Profile, ui: str) -> None:
    plan = make_plan(arc_a770, PlanOptions(ui=ui))
    assert (plan.backend, plan.device.kind, plan.device.name) == ("xpu", "gpu", "Intel Arc A770")
    assert plan.decision("device").choice == "GPU 0: Intel Arc A770"  # no empty "()": no gfx/sm name, VRAM unknown
    assert plan.torch.variant == "xpu" and plan.torch.index_url == "https://download.pytorch.org/whl/xpu"
    assert plan.torch.install == [
        "python -m pip install torch==2.13.0 torchvision==0.28.0 --index-url https://download.pytorch.org/whl/xpu"
    ]
    driver = next(w for w in plan.warnings if w.id == "xpu-driver")
    assert "Level Zero" in driver.message and "torch.xpu.is_available()" in (driver.fix or "")


@pytest.mark.parametrize("ui", ["a1111", "forge", "sdnext"])
def test_a_ui_without_torch_xpu_keeps_the_cpu_and_says_why(arc_a770: Profile, ui: str) -> None:
    plan = make_plan(arc_a770, PlanOptions(ui=ui))
    assert plan.backend == "cpu" and plan.torch.variant == "cpu"
    device = next(d for d in plan.decisions if d.topic == "device")
    why = " ".join(a.why_not for a in device.alternatives)
    assert "runs on torch.xpu without Intel's discontinued IPEX" in why and "ComfyUI and InvokeAI run on it" in why


def test_the_install_disk_check_does_not_size_the_xpu_wheel_as_the_cpu_one() -> None:
    need = install_need("comfyui", [], "xpu", torch_installed=False)
    assert "torch (xpu)" in need.unmeasured and not any("torch (xpu)" in p for p in need.parts)
