"""`rigfit doctor --from FILE` / `rigfit plan --from FILE` on one pasted text (or `--from -`): rigfit recognises which
tools the text comes from (rigfit/kb/pasted_tools.yaml) and serves it to their readers (rigfit/probe/paste_source.py).

Every real paste the other doctor tests feed through a capture slot of their choice (tests/fixtures/doctor/*.txt,
the held-out rounds' expectations in heldout-d*.yaml, the logs of test_doctor_pastes.py) must read the same when the
user gives the file alone: same GPUs, CPU, driver and findings, with no slot chosen for it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rigfit.cli import app
from rigfit.kb.pasted_tools import pasted_tools
from rigfit.probe.gather import findings_for, probe_machine
from rigfit.probe.paste_source import MAX_PASTE_BYTES, PasteSource, recognised_tools
from rigfit.probe.profile import Profile
from rigfit.probe.source import CaptureError, CaptureSource, open_source
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES
from tests.test_doctor_heldout_d import CASES, assembled

runner = CliRunner()
DOCTOR = FIXTURES / "doctor"
LOGS = FIXTURES / "logs"
# real logs tests/test_doctor_pastes.py feeds to a slot
LOG_SLOTS = {
    "nvidia-smi-no-driver--cluster-after-upgrade.txt": "nvidia-smi",
    "nvml-driver-mismatch--taskcluster.txt": "nvidia-smi",
    "nouveau-in-use--dmesg-nvrm-probe.txt": "dmesg",
    "kfd-unsupported-asic--rx560-rocm19.txt": "dmesg",
    "kfd-permission-denied--docker-render-group.txt": "rocminfo",
    "pcie-atomics-rejected--rx580-x58-dmesg.txt": "dmesg",
}
# where the paste reads MORE than the one slot its test chose (the text holds several tools), and why that is right
READS_MORE = {
    # a collect_env's CPU section, fed to the lscpu slot: the paste also reads its GPU and torch lines
    "collect-env-cpu-section-cut-after-address-sizes--arch": {"gpus", "torch"},
    # `docker info` printed under the nvidia-smi error says "Architecture: x86_64" (lscpu's label): the host's arch
    "docker-nvml-unknown-error-plus-host-lines--a100-535": {"cpu"},
    # rocminfo's permission error, then rocm-smi listing 4 GPUs (fed to the rocminfo slot): the 4 GPUs are read
    "logs/kfd-permission-denied--docker-render-group.txt": {"gpus"},
    # `dmesg | grep kfd`, then rocminfo's "hsa api call failure" (fed to the dmesg slot): the runtime failure is read
    "logs/kfd-unsupported-asic--rx560-rocm19.txt": {"faults"},
    # `uname -a` printed before rocminfo (fed to the rocminfo slot): the paste reads its architecture (a line fact)
    "rocminfo-out-of-resources-then-rocm-smi-cut--kernel-6.11": {"cpu"},
    # Python's platform string ("Python platform: Linux-...-x86_64-with-glibc2.35", sysinfo's "Platform"): the
    # architecture (a line fact, heldd18)
    "a1111-console-collect-env--tesla-v100s-515-cut": {"cpu"},
    "a1111-sysinfo-json-cut--tesla-t4-530": {"cpu"},
    "vllm-collect-env-sectioned--4x-rtx3090-cut-in-gpu3": {"cpu"},
    # collect_env cut before its GPU lines: its "PyTorch version: 2.5.1+cu124" (a line fact, heldd18)
    "vllm-collect-env-sectioned-cut-before-gpu--rhel8.3-torch2.5.1-cu124": {"torch"},
    # a UI's own platform line ("** Platform: Windows", SD.Next's "platform=Windows"): the OS family (a line fact,
    # leftover18), so the not-Linux warning
    "comfyui-directml-startup-cut-before-device--windows": {"findings"},
    "sdnext-device-line-rtx5090-cap-12-0-cuda12.6-arch-sm90--576.02": {"findings"},
    "sdnext-startup-time-then-restart-cut--no-device": {"findings"},
}


def _slot_of(name: str) -> str:
    """The capture slot of a fixture no held-out round lists: the reader of the tool rigfit recognises in it
    (pasted_tools.yaml `reads`), the first in the KB's order where it holds several; a fixture rigfit recognises no
    tool in has no slot (KeyError here: it must be listed with its slot, or recognised)."""
    tools = [t for t in recognised_tools((DOCTOR / name).read_text(encoding="utf-8")) if not t.line_fact]
    if not tools:
        raise KeyError(f"{name}: rigfit recognises no tool's output in it")
    return tools[0].reads


def _all_pastes() -> dict[str, dict[str, str]]:
    """case name -> {slot: fixture path relative to tests/fixtures/doctor}, for every real paste fed to a slot."""
    cases = {name: dict(case["pastes"]) for name, case in CASES.items()}
    listed = {f for pastes in cases.values() for f in pastes.values()}
    for path in sorted(DOCTOR.glob("*.txt")):
        if path.name not in listed:
            cases[path.stem] = {_slot_of(path.name): path.name}
    for name, slot in LOG_SLOTS.items():
        cases[f"logs/{name}"] = {slot: f"../logs/{name}"}
    return cases


PASTES = _all_pastes()


def _facts(profile: Profile) -> dict[str, Any]:
    c = profile.cpu
    return {
        "gpus": [
            (g.vendor, g.name, g.pci_id, g.gfx, g.compute_capability, g.vram_bytes, g.driver, g.driver_bound)
            for g in profile.gpus
        ],
        "cpu": (c.arch, c.model, c.cores, c.threads, c.sse4_2, c.avx, c.avx2, c.x86_64_level, c.flags),
        "driver": (profile.nvidia_driver, profile.cuda_driver_version),
        "faults": [f.kind for f in profile.gpu_faults],
        "findings": sorted(f.id for f in findings_for(profile)),
        "torch": profile.torch.version if profile.torch else None,
    }


def _pasted(tmp_path: Path, fixtures: list[str]) -> PasteSource:
    text = "\n".join((DOCTOR / f).read_text(encoding="utf-8") for f in fixtures)
    paste = tmp_path / "paste.txt"
    paste.write_text(text, encoding="utf-8")
    source = open_source(str(paste))
    assert isinstance(source, PasteSource)
    return source


def test_every_doctor_fixture_is_covered() -> None:
    assert len(PASTES) >= 300
    assert all((DOCTOR / f).is_file() for pastes in PASTES.values() for f in pastes.values())


@pytest.mark.parametrize("name", sorted(PASTES))
def test_a_paste_alone_reads_as_in_the_slot_its_test_chose(tmp_path: Path, name: str) -> None:
    pastes = PASTES[name]
    by_slot = _facts(assembled(tmp_path / "slot", pastes))
    source = _pasted(tmp_path, list(pastes.values()))
    covered = {t.reads for t in pasted_tools() if any(t.id in r.covers for r in source.tools)}
    assert set(pastes) <= {tool.reads for tool in source.tools} | covered, [t.id for t in source.tools]
    by_paste = _facts(probe_machine(source, torch_check=False))
    more = READS_MORE.get(name, set())
    assert {k: v for k, v in by_paste.items() if k not in more} == {k: v for k, v in by_slot.items() if k not in more}
    for key in more:  # read more, never something else
        _reads_more(by_slot[key], by_paste[key], key)


def _reads_more(slot: Any, paste: Any, key: str) -> None:
    """What the slot read is all in what the paste read, and the paste read something more."""
    if isinstance(slot, list):
        assert set(slot) < set(paste), (key, slot, paste)
    elif isinstance(slot, tuple):
        assert all(s in (None, ()) or s == p for s, p in zip(slot, paste, strict=True)) and slot != paste, key
    else:
        assert slot is None and paste is not None, key


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_held_out_paste_alone_is_read_right(tmp_path: Path, name: str) -> None:
    """The held-out rounds' expectations (what a right doctor reads), on the file alone."""
    case = CASES[name]
    profile = probe_machine(_pasted(tmp_path, list(case["pastes"].values())), torch_check=False)
    if "gpus" in case:
        assert [{k: getattr(g, k) for k in e} for g, e in zip(profile.gpus, case["gpus"], strict=True)] == case["gpus"]
    for key, value in case.get("cpu", {}).items():
        assert getattr(profile.cpu, key) == value, key
    for key, value in case.get("profile", {}).items():
        assert getattr(profile, key) == value, key
    ids = {f.id for f in findings_for(profile)}
    assert set(case.get("findings", [])) <= ids and not set(case.get("not_findings", [])) & ids, sorted(ids)


# several tools in one text -----------------------------------------------------------------------------------------

MULTI = [
    # collect_env then nvidia-smi: the torch and the driver's own table
    ("collect-env-wsl2-cu121--rtx4070-laptop-551-cut.txt", "nvidia-smi-550-gtx1650-4g-cut.txt"),
    # lscpu then rocminfo
    ("lscpu-fence-joined--kvm-skylake.txt", "rocminfo-agent-block--rx580.txt"),
    # lspci then the kernel log that rejects the card
    ("lspci-nn-one-line--gtx1060-6gb-1c03.txt", "dmesg-kfd-rejects-atomics--wx7100.txt"),
    # nvidia-smi then /proc/cpuinfo
    ("nvidia-smi-450-titan-xp.txt", "cpuinfo-pentium-m--i386.txt"),
    # rocm-smi then lscpu in Russian
    ("rocm-smi-concise-one-gpu-no-id.txt", "lscpu-russian-flags-cut--a10-9620p.txt"),
    # a collect_env and lspci: served whole to both readers, its torch report was read twice (the GPU doubled)
    ("collect-env-rocm63-wsl2--rx7900xtx-gfx1100-cut.txt", "lspci-nn--navi31.txt"),
    # lspci -v then lscpu: served whole, lspci's "Flags: bus master, ..." was read as the CPU's flags
    ("lspci-v-kernel-driver-nvidia--gtx650ti-gk106.txt", "lscpu-tree-flags-wrapped--i5-2400-avx-no-avx2.txt"),
    # nvidia-smi then clinfo: served whole, clinfo's Intel "Driver Version" was read as the NVIDIA driver's
    ("nvidia-smi-cut-mid-table-no-header--a100-sxm4-80gb.txt", "clinfo-wsl--arc-a750-56a1.txt"),
    # lscpu then nvidia-smi -q -x pasted through a web form (its lines match only once unescaped)
    ("lscpu-kvm-bochs-48-sockets--broadwell-ibrs.txt", "nvidia-smi-q-x-html-escaped-wsl--rtx4090-591.txt"),
    # lscpu then ComfyUI's markdown "System Information" (its head has no signature line)
    ("lscpu-russian-flags-cut--a10-9620p.txt", "comfyui-system-information-and-log--rtx2060-12884443136.txt"),
    # /proc/cpuinfo's flags then an SD.Next start-up whose device line comes first
    ("cpuinfo-flags-line-only--e3-1245v2.txt", "sdnext-device-line-rtx5090-cap-12-0-cuda12.6-arch-sm90--576.02.txt"),
]


def _slot_for_one(fixture: str) -> str:
    return next(slot for pastes in PASTES.values() for slot, f in pastes.items() if f == fixture)


def _in_slots(tmp_path: Path, fixtures: list[str]) -> Profile:
    """A capture with each fixture in its slot, two in one slot one after the other (as tests feed such pastes)."""
    (tmp_path / "commands").mkdir(parents=True)
    (tmp_path / "rigfit-capture.json").write_text(json.dumps({"rigfit_version": "test", "assembled": True}))
    slots: dict[str, list[str]] = {}
    for fixture in fixtures:
        slots.setdefault(_slot_for_one(fixture), []).append((DOCTOR / fixture).read_text(encoding="utf-8"))
    for slot, texts in slots.items():
        target = (
            tmp_path / "files" / slot.lstrip("/") if slot.startswith("/") else tmp_path / "commands" / f"{slot}.out"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(texts), encoding="utf-8")
    return probe_machine(CaptureSource(tmp_path), torch_check=False)


# two outputs in one text whose paste reads more than their slots: a WSL2 kernel in collect_env's Python platform
MULTI_READS_MORE = {
    "collect-env-wsl2-cu121--rtx4070-laptop-551-cut.txt": {"findings"},
    "sdnext-device-line-rtx5090-cap-12-0-cuda12.6-arch-sm90--576.02.txt": {"findings"},  # its platform line
}


@pytest.mark.parametrize(("first", "second"), MULTI)
def test_two_outputs_in_one_text_read_as_each_in_its_own_slot(tmp_path: Path, first: str, second: str) -> None:
    by_slots = _facts(_in_slots(tmp_path / "slots", [first, second]))
    source = _pasted(tmp_path, [first, second])
    # line facts (the Python a collect_env or UI prints, tests/test_doctor_paste_line_facts.py) are no output's slot
    outputs = {tool.reads for tool in source.tools if not tool.line_fact}
    assert outputs == {_slot_for_one(first), _slot_for_one(second)}
    by_paste = _facts(probe_machine(source, torch_check=False))
    more = MULTI_READS_MORE.get(first, set()) | MULTI_READS_MORE.get(second, set())
    assert {k: v for k, v in by_paste.items() if k not in more} == {k: v for k, v in by_slots.items() if k not in more}
    for key in more:  # read more, never something else
        _reads_more(by_slots[key], by_paste[key], key)


def test_lscpu_then_rocminfo_gives_the_cpu_and_the_gpu(tmp_path: Path) -> None:
    profile = probe_machine(_pasted(tmp_path, [MULTI[1][0], MULTI[1][1]]), torch_check=False)
    assert profile.cpu.avx2 is True and profile.cpu.model and "Skylake" in profile.cpu.model
    assert [g.gfx for g in profile.gpus] == ["gfx803"]


def test_nvidia_smi_pasted_with_a_collect_env_keeps_its_table(tmp_path: Path) -> None:
    """One reader reads both (the nvidia-smi slot): the report's GPU lines replaced nvidia-smi's table, losing its
    VRAM and CUDA level; the table now stays and the torch comes from the collect_env."""
    source = _pasted(
        tmp_path, ["nvidia-smi-550-gtx1650-4g-cut.txt", "collect-env-wsl2-cu121--rtx4070-laptop-551-cut.txt"]
    )
    assert [t.id for t in source.tools if t.reads == "nvidia-smi"] == ["nvidia-smi", "torch-collect-env", "ui-console"]
    profile = probe_machine(source, torch_check=False)
    assert [(g.name, g.vram_bytes) for g in profile.gpus] == [("NVIDIA GeForce GTX 1650", 4096 * 2**20)]
    assert profile.cuda_driver_version is not None
    assert profile.torch is not None and profile.torch.version == "2.4.0+cu121"


# recognition and errors ------------------------------------------------------------------------------------------


def test_every_tool_of_the_kb_is_recognised_in_its_own_sources() -> None:
    for tool in pasted_tools():
        for source in tool.sources:
            text = (Path(__file__).resolve().parent.parent / source).read_text(encoding="utf-8")
            assert tool.id in {t.id for t in recognised_tools(text)} or any(
                tool.id in t.covers for t in recognised_tools(text)
            ), (tool.id, source)


@pytest.mark.parametrize(
    "text",
    [
        "Hello, I cannot get Stable Diffusion to run, please help.\nThanks!\n",
        'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: nope\n',
        "CPU: 32 cores\nRAM: 64 GB\n",
    ],
)
def test_text_of_no_known_tool_is_a_usage_error_naming_the_file_and_the_tools(tmp_path: Path, text: str) -> None:
    paste = tmp_path / "my notes.txt"
    paste.write_text(text)
    result = runner.invoke(app, ["doctor", "--from", str(paste), "--json"])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2 and result.stdout == ""
    assert str(paste) in said and "recognises no tool" in said and "nvidia-smi" in said and "rocminfo" in said
    assert "lscpu" in said and "collect_env" in said and "rigfit capture" in said
    assert paste.read_text() == text  # nothing lost


def test_an_empty_or_binary_file_is_a_usage_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8)
    for path, says in ((empty, "is empty"), (binary, "binary file")):
        result = runner.invoke(app, ["doctor", "--from", str(path)])
        assert result.exit_code == 2 and says in " ".join(result.stderr.split()), result.output


def test_a_huge_paste_is_read_up_to_the_bound_and_says_so(tmp_path: Path) -> None:
    head = (DOCTOR / "nvidia-smi-450-titan-xp.txt").read_text(encoding="utf-8")
    paste = tmp_path / "huge.txt"
    with paste.open("w", encoding="utf-8") as fh:
        fh.write(head)
        fh.write(("[ 1.000000] usb 1-1: new device\n") * (MAX_PASTE_BYTES // 30))
    profile = probe_machine(PasteSource(str(paste)), torch_check=False)
    assert [g.name for g in profile.gpus] == ["TITAN Xp"]
    assert any(f"only its first {MAX_PASTE_BYTES // 2**20} MiB were read" in w for w in profile.warnings)


def test_a_capture_folder_and_archive_still_replay_as_captures() -> None:
    machine = FIXTURES / "machines" / "x5670-rx460-gfx803-x58"
    assert not isinstance(open_source(str(machine)), PasteSource)
    with pytest.raises(CaptureError, match="does not exist"):
        open_source(str(machine / "nope.tar.gz"))


# end to end through the CLI --------------------------------------------------------------------------------------


def test_doctor_json_from_a_pasted_file_says_it_is_a_paste_and_what_is_unknown(tmp_path: Path) -> None:
    source = _pasted(
        tmp_path, ["collect-env-wsl2-cu121--rtx4070-laptop-551-cut.txt", "rocminfo-agent-block--rx580.txt"]
    )
    result = runner.invoke(app, ["doctor", "--from", source.path, "--json"])
    assert result.exit_code in (0, 1), result.output
    profile = json.loads(result.stdout)["profile"]
    assert profile["source"].startswith(f"paste {source.path} (recognised: ")
    assert "torch-collect-env" in profile["source"] and "rocminfo" in profile["source"]
    notes = " ".join(profile["warnings"])
    assert "unknown, not missing" in notes and "/proc/meminfo not in the paste" in notes
    assert "missing:" not in notes and " missing" not in notes.replace("unknown, not missing", "")
    assert profile["memory"]["total_bytes"] is None


def test_doctor_and_plan_read_a_paste_from_standard_input() -> None:
    text = (DOCTOR / "nvidia-smi-450-titan-xp.txt").read_bytes()
    cmd = [sys.executable, "-m", "rigfit.cli"]
    doctor = subprocess.run([*cmd, "doctor", "--from", "-", "--json"], input=text, capture_output=True, timeout=60)
    assert doctor.returncode in (0, 1), doctor.stderr
    data = json.loads(doctor.stdout)["profile"]
    assert data["source"] == "paste (standard input) (recognised: nvidia-smi)"
    assert [g["name"] for g in data["gpus"]] == ["TITAN Xp"] and data["nvidia_driver"] == "450.57"
    plan = subprocess.run([*cmd, "plan", "--from", "-"], input=text, capture_output=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    out = plan.stdout.decode()
    assert "TITAN Xp" in out and "525.60.13" in out  # the driver floor of the CUDA line it picks


def test_plan_from_a_pasted_file(tmp_path: Path) -> None:
    source = _pasted(tmp_path, ["rocminfo-agent-block--w6600-gfx1032.txt"])
    result = runner.invoke(app, ["plan", "--from", source.path, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["plan"]["backend"] == "rocm", data["plan"]["backend"]
