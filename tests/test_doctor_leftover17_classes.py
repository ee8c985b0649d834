"""Classes of round leftover17 (issue 10), read by `rigfit doctor --from FILE` from real pastes (tests/fixtures/doctor/
pasted/, SOURCES.md round leftover17; the "Left:" lines of rounds heldd17 and heldd19):

1. a Forge/A1111 start-up banner whose "Launching Web UI with arguments" line holds flags the UI its "Version:" line
   names does not read (AUTOMATIC1111's --medvram in Forge: rigfit/kb/uis.yaml `ignores`), once the UI went on past
   its argument parser: remove them, and the UI's own flag for the same setting;
2. torch's "sm_N is not compatible with the current PyTorch installation" cut before (or inside) its list of what it
   supports: torch.no-kernels-for-gpu with that range unknown and the fix from torch_wheels.yaml for the card;
3. a CUDA torch that sees no GPU beside outputs showing only an AMD GPU (or a ROCm torch beside only NVIDIA GPUs):
   torch.build_swapped, found from the torch itself;
4. kohya_ss's installer reading the requirements file of the other kind of GPU than its own lines show
   (requirements_linux_rocm.txt on an NVIDIA machine, requirements_linux.txt on an AMD one)."""

from __future__ import annotations

import pytest

from rigfit.probe.gather import findings_for, probe_machine
from rigfit.probe.gpu.installer_swap import torch_swap_faults
from rigfit.probe.gpu.ui_console import _own_flag, _uis, ui_console_faults
from rigfit.probe.paste_source import PasteSource
from rigfit.probe.profile import Finding, Profile
from rigfit.probe.source import open_source
from tests.conftest import FIXTURES
from tests.doctor_paste_helpers import PASTED, pasted_profile

FORGE_MEDVRAM = "forge-f0.0.16-banner-medvram-sdxl-medvram-removed--rtx3070-8191mb.txt"
FORGE_OK = FIXTURES / "doctor" / "forge-startup-windows--rtx4070-12282mb.txt"  # --api --port 7862: Forge's own
FORGE_COMPOSE = "heldx23-12-ai-dock-forge-compose-prefix-gtx1660super-5927mb-restart-loop.txt"
SM120_CUT_BEFORE = "torch-sm120-not-compatible-cut-before-list--rtx5090-hifisampler.txt"
SM120_CUT_IN = "torch-sm120-not-compatible-cut-in-list--rtx5070ti-cosyvoice-docker.txt"
SM120_NO_PERIOD = "torch-sm120-not-compatible-list-without-period--rtx5060ti-kokoro-docker.txt"
SM120_WHOLE = "workbench-sdxl-rtx5060ti-sm120-not-compatible.txt"
ONE_LINER = "invokeai-rocm-docker-torch-one-liner-2.6.0-cu124-cuda-false.txt"
ROCMINFO = "rocminfo-grep-name-lines--i7-9700-gfx1100-rx7900xtx.txt"
KOHYA_NVIDIA = "kohya-v25-fedora-rtx3060ti-7867mb-arch-8.6-missing-rocm-requirements.txt"
KOHYA_AMD = "kohya-gui-sh-no-timestamps-rocm-rx7800xt-16368-then-reinstalls-cu118.txt"


def _found(profile: Profile, id_: str) -> list[Finding]:
    return [f for f in findings_for(profile) if f.id == id_]


def _text_profile(tmp_path, text: str) -> Profile:
    path = tmp_path / "paste.txt"
    path.write_text(text, encoding="utf-8")
    source = open_source(str(path))
    assert isinstance(source, PasteSource)
    return probe_machine(source, torch_check=False)


# 1. flags the UI its banner names does not read -------------------------------------------------------------------


def test_a1111_memory_flags_in_a_forge_banner_are_a_finding_with_forges_own_flag() -> None:
    (finding,) = _found(pasted_profile(FORGE_MEDVRAM), "ui.flags_ignored")
    assert finding.severity == "info"
    assert "Launching Web UI with arguments: --medvram-sdxl --medvram" in finding.message
    assert "Stable Diffusion WebUI Forge ignores --medvram-sdxl, --medvram" in finding.message
    # Forge's own advice for a forced offload, read from uis.yaml's oom_flags, not from the paste
    assert "Remove --medvram-sdxl, --medvram" in finding.fix
    assert "--medvram -> --always-offload-from-vram" in finding.fix and "rigfit plan --ui forge" in finding.fix


@pytest.mark.parametrize("text", [FORGE_OK.read_text(encoding="utf-8"), (PASTED / FORGE_COMPOSE).read_text()])
def test_a_forge_banner_with_its_own_flags_is_no_finding(text: str) -> None:
    assert not [f for f in ui_console_faults(text) if f.kind == "ui_flags_ignored"]


@pytest.mark.parametrize(
    ("ui_id", "flag", "own"),
    [
        ("forge", "--medvram", "--always-offload-from-vram"),  # what Forge itself prints for a forced offload
        ("forge", "--lowvram", "--always-low-vram"),
        ("forge", "--no-half", "--all-in-fp32"),
        ("forge", "--no-half-vae", "--vae-in-fp32"),
        ("a1111", "--always-low-vram", "--lowvram"),
        ("a1111", "--all-in-fp32", "--precision full --no-half"),  # the whole A1111 setting, value included
    ],
)
def test_the_uis_own_flag_for_the_same_setting_comes_from_uis_yaml(ui_id: str, flag: str, own: str) -> None:
    ui = next(u for u in _uis() if u.id == ui_id)
    assert flag in ui.ignores and _own_flag(ui, flag) == own


# 2. the cut sm_N warning ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "card"),
    [
        (SM120_CUT_BEFORE, "NVIDIA GeForce RTX 5090"),
        (SM120_CUT_IN, "NVIDIA GeForce RTX 5070 Ti"),
        (SM120_NO_PERIOD, "NVIDIA GeForce RTX 5060 Ti"),
    ],
)
def test_a_cut_sm_warning_is_no_kernels_for_the_card_with_the_range_unknown(name: str, card: str) -> None:
    profile = pasted_profile(name)
    assert profile.torch is not None and profile.torch.rejected_ccs == ["12.0"]
    assert profile.torch.arch_list is None and profile.torch.cc_min is None  # the list is not read: cut, or no "."
    (finding,) = _found(profile, "torch.no-kernels-for-gpu")
    assert f"{card} (compute capability 12.0, sm_120) has no kernels" in finding.message
    assert "the capabilities it supports are not in the paste" in finding.message
    assert finding.kb == ["torch-2.13-cu130"]  # torch_wheels.yaml's newest line with sm_120 kernels
    assert "--index-url https://download.pytorch.org/whl/cu130" in finding.fix


def test_the_whole_warning_still_names_its_list() -> None:
    (finding,) = _found(pasted_profile(SM120_WHOLE), "torch.no-kernels-for-gpu")
    assert "it supports sm_50" in finding.message and "not in the paste" not in finding.message


# 3. a CUDA torch beside an AMD GPU ------------------------------------------------------------------------------------


def test_a_cuda_torch_beside_only_an_amd_gpu_is_the_wrong_vendors_build(tmp_path) -> None:
    """The one-liner of InvokeAI's ROCm image (invoke-ai/InvokeAI#7977) and rocminfo's name lines (ROCm/hip#3465),
    two real outputs given together: the torch is for NVIDIA, the only GPU is AMD. No real paste holding both was
    found in the stored threads; each text is as posted."""
    text = (PASTED / ONE_LINER).read_text(encoding="utf-8") + "\n" + (PASTED / ROCMINFO).read_text(encoding="utf-8")
    profile = _text_profile(tmp_path, text)
    assert [g.vendor for g in profile.gpus] == ["amd"]
    (finding,) = _found(profile, "torch.build_swapped")
    assert "torch 2.6.0+cu124 (CUDA 12.4) is built for NVIDIA GPUs, but the GPU here is AMD" in finding.message
    assert "Radeon RX 7900 XTX" in finding.message
    assert "Replace torch 2.6.0+cu124 with the build for AMD GPUs" in finding.fix
    assert not _found(profile, "torch.no-gpu-visible")  # the cause is known: not the generic "sees no GPU"


def test_the_one_liner_alone_keeps_the_generic_finding() -> None:
    """Without a GPU in the paste, the vendor of the machine is unknown: nothing is said about the build."""
    profile = pasted_profile(ONE_LINER)
    assert not _found(profile, "torch.build_swapped") and _found(profile, "torch.no-gpu-visible")


# 4. the installer reading the other vendor's requirements -------------------------------------------------------------


def test_kohya_reading_the_rocm_requirements_on_an_nvidia_machine() -> None:
    (finding,) = _found(pasted_profile(KOHYA_NVIDIA), "installer.wrong_vendor_requirements")
    assert "requirements_linux_rocm.txt" in finding.message
    assert "its own lines show an NVIDIA GPU, torch 2.7.0+cu128" in finding.message
    assert "PR #3293" in finding.fix and "git pull" in finding.fix and "nvidia-smi" in finding.fix


def test_kohya_reading_the_cuda_requirements_on_an_amd_machine() -> None:
    """bmaltais/kohya_ss#2228 up to its requirements line (the lines the installer printed before it went on); the
    whole paste's "Package wrong version" line is torch.build_swapped, which stays the one finding there."""
    lines = (PASTED / KOHYA_AMD).read_text(encoding="utf-8").splitlines()
    upto = next(n for n, line in enumerate(lines) if "Verifying modules installation status" in line)
    (fault,) = torch_swap_faults("\n".join(lines[: upto + 1]))
    assert fault.kind == "installer_requirements_vendor"
    assert fault.facts == {"requirements": "requirements_linux.txt", "machine": "rocm"}
    assert fault.detail == "its own lines show an AMD GPU, torch 2.1.2+rocm5.6"
    whole = pasted_profile(KOHYA_AMD)
    assert _found(whole, "torch.build_swapped") and not _found(whole, "installer.wrong_vendor_requirements")


@pytest.mark.parametrize(
    "name",
    [
        # v24.1.4 on Windows with an RTX 4070 Ti reading requirements_pytorch_windows.txt / requirements_windows.txt
        "heldx23-13-kohya-gui-v24.1.4-zip-not-a-git-repository-rtx4070ti.txt",
        # Kaggle's two T4s (the file names wrapped onto the next line: not read, nothing said)
        "kohya-kaggle-startup--2x-tesla-t4-15102.txt",
    ],
)
def test_the_requirements_file_of_the_machines_own_kind_is_no_finding(name: str) -> None:
    assert not torch_swap_faults((PASTED / name).read_text(encoding="utf-8"))
