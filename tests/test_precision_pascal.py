"""Pascal precision from one entry: GP10x (sm_61: GeForce 10, Tesla P40) keeps fp16 weights and computes in fp32,
GP100 (sm_60: Tesla P100, full-rate fp16) runs plain fp16; plan and doctor's plan line read the same precision.yaml
entry. Real pastes: AUTOMATIC1111/stable-diffusion-webui#15197 (lspci, 2x P40), heldout-d8's P100 nvidia-smi."""

from __future__ import annotations

import json
from pathlib import Path

from rigfit.cli import app
from rigfit.plan.model import PlanOptions
from rigfit.plan.planner import make_plan
from tests.cli_runner import CliRunner
from tests.doctor_helpers import pasted, read

P40 = ("lspci", "lspci-plain-three-lines--renoir-and-2x-tesla-p40.txt")
GTX1060 = ("lspci", "lspci-nn-one-line--gtx1060-6gb-1c03.txt")
UPCAST = "fp16 weights, sampling upcast to fp32, fp32 VAE"
P100 = ("nvidia-smi", "nvidia-smi-418-cuda101--p100-pcie-elided-16g.txt")


def _precision(tmp_path: Path, paste: tuple[str, str], ui: str) -> tuple[str, list[str], list[str]]:
    plan = make_plan(pasted(tmp_path / ui, paste[0], read(paste[1])), PlanOptions(ui=ui))
    decision = next(d for d in plan.decisions if d.topic == "precision")
    return plan.precision_detail, plan.ui_flags, [k for r in decision.reasons for k in r.kb]


def test_p40_keeps_fp16_weights_and_computes_in_fp32_in_every_ui(tmp_path: Path) -> None:
    key, flags, kb = _precision(tmp_path, P40, "a1111")
    assert key == UPCAST and kb[0] == "prec-nvidia-pascal-gp10x"
    assert "--upcast-sampling" in flags and "--no-half-vae" in flags and "--no-half" not in flags
    key, flags, _ = _precision(tmp_path, P40, "comfyui")
    # ComfyUI computes the 10 series in fp32 by itself on Linux: --force-fp16 would force the 1/64-rate path
    assert key == UPCAST and "--force-fp16" not in flags and "--fp32-vae" in flags
    key, flags, _ = _precision(tmp_path, P40, "forge")
    assert key == UPCAST and "--all-in-fp32" not in flags


def test_geforce_pascal_reads_the_same_entry_as_the_p40(tmp_path: Path) -> None:
    assert _precision(tmp_path, GTX1060, "a1111")[2][0] == "prec-nvidia-pascal-gp10x"


def test_p100_full_rate_fp16_stays_plain_fp16(tmp_path: Path) -> None:
    key, flags, kb = _precision(tmp_path, P100, "a1111")
    assert key == "fp16" and kb[0] == "prec-nvidia-pascal-gp100" and "--upcast-sampling" not in flags


def test_doctor_plan_line_says_the_plan_precision(tmp_path: Path) -> None:
    pasted(tmp_path, P40[0], read(P40[1]))
    result = CliRunner().invoke(app, ["doctor", "--from", str(tmp_path), "--no-torch-check"])
    assert result.exit_code in (0, 1) and "fp16 weights, sampling upcast to fp32, fp32 VAE" in result.output
    doc = json.loads(CliRunner().invoke(app, ["plan", "--from", str(tmp_path), "--json"]).output)
    assert doc["plan"]["precision_detail"] == UPCAST
