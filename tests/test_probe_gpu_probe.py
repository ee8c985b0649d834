"""GPU probing end to end on captures (commands-only pastes, and sysfs files + links.json), the merge, the findings.

Every capture here is assembled from real outputs in tests/fixtures/ (see tests/fixtures/SOURCES.md); the sysfs
capture carries the ids of the real RX 7900 XTX whose KFD node and kernel log are in tests/fixtures/real/.
"""

from __future__ import annotations

import json
from pathlib import Path

from rigfit.probe.gather import findings_for, probe_machine
from rigfit.probe.gpu.kernel_log import parse_kernel_log
from rigfit.probe.gpu.lspci import parse_lspci
from rigfit.probe.gpu.merge import Evidence, merge
from rigfit.probe.gpu.nvidia_smi import parse_nvidia_smi
from rigfit.probe.profile import Profile
from rigfit.probe.report import nothing_can_run
from rigfit.probe.source import CaptureSource
from tests.conftest import FIXTURES, fixture_text

X5670 = FIXTURES / "machines/x5670-rx460-gfx803-x58"
RX6800XT = FIXTURES / "machines/rx6800xt-r7-7700x-raphael-igpu"


def capture(tmp: Path, commands: dict[str, str] | None = None, files: dict[str, str] | None = None,
            facts: dict[str, object] | None = None, links: dict[str, str] | None = None) -> CaptureSource:  # fmt: skip
    for name, text in (commands or {}).items():
        (tmp / "commands").mkdir(parents=True, exist_ok=True)
        (tmp / "commands" / f"{name}.out").write_text(text)
    for path, text in (files or {}).items():
        target = tmp / "files" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    for name, value in (facts or {}).items():
        (tmp / "facts").mkdir(parents=True, exist_ok=True)
        (tmp / "facts" / f"{name}.json").write_text(json.dumps(value))
    if links:
        (tmp / "links.json").write_text(json.dumps(links))
    return CaptureSource(tmp)


def probe(source: CaptureSource) -> tuple[Profile, dict[str, object]]:
    profile = probe_machine(source, torch_check=False)
    return profile, {f.id: f for f in findings_for(profile)}


def test_gfx803_behind_pcie2_atomics_blocker_but_cpu_can_run() -> None:
    profile, found = probe(CaptureSource(X5670))
    (gpu,) = profile.gpus
    assert (gpu.pci_id, gpu.gfx, gpu.atomics_rejected, gpu.driver_bound) == ("1002:67ef", "gfx803", True, True)
    blocker = found["gpu.pcie_atomics_rejected"]
    assert (blocker.severity, blocker.blocks, blocker.kb) == ("blocker", "gpu", ["gfx803"])
    assert "PCI rejects atomics" in blocker.message and "PCIe 3.0" in blocker.fix
    assert found["gpu.pcie_slow_link"].severity == "warning"
    assert "gpu.rocm_no_agent" not in found  # the atomics finding already says why rocminfo lists no GPU
    assert not nothing_can_run(profile, list(found.values()))


def test_lspci_alone_shows_atomics_blocked_on_the_path(tmp_path: Path) -> None:
    lspci = fixture_text("real/lspci/rx560-behind-x570-chipset-switch-atomics-routing-lspci-vvv.txt")
    profile, found = probe(capture(tmp_path, {"lspci": lspci}))
    (gpu,) = profile.gpus
    assert (gpu.bdf, gpu.gfx, gpu.pci_id, gpu.atomics_path_ok, gpu.atomics_rejected) == (
        "0000:06:00.0",
        "gfx803",
        None,
        False,
        None,
    )
    assert "does not route AtomicOps" in found["gpu.pcie_atomics_rejected"].message
    assert gpu.pcie is not None and (gpu.pcie.speed_gts, gpu.pcie.max_width) == (2.5, 8)


def test_kernel_log_gives_the_id_lspci_without_nn_lacks() -> None:
    lspci = parse_lspci(fixture_text("machines/x5670-rx460-gfx803-x58/commands/lspci.out"))
    (gpu,) = merge(
        Evidence(
            lspci=lspci, kernel=parse_kernel_log(fixture_text("machines/x5670-rx460-gfx803-x58/commands/dmesg.out"))
        )
    )
    assert (gpu.pci_id, gpu.name, gpu.atomics_rejected) == ("1002:67ef", "AMD Radeon RX 460 Graphics", True)
    # a rejected id of another chip is not pinned on this card
    other = parse_kernel_log(fixture_text("real/dmesg/rx580-x58-x5650-pci-rejects-atomics.txt"))
    (gpu,) = merge(Evidence(lspci=lspci, kernel=other))
    assert (gpu.pci_id, gpu.atomics_rejected) == (None, None)


def test_nouveau_blocks_cuda(tmp_path: Path) -> None:
    lspci = fixture_text("real/lspci/gtx970-nouveau-lspci-vv-nonroot.txt")
    profile, found = probe(capture(tmp_path, {"lspci": lspci}))
    (gpu,) = profile.gpus
    assert (gpu.vendor, gpu.driver, gpu.compute_capability, gpu.family) == ("nvidia", "nouveau", "5.2", "Maxwell")
    assert found["gpu.nvidia_on_nouveau"].severity == "blocker" and "nouveau" in found["gpu.nvidia_on_nouveau"].fix


def test_nvidia_table_and_lspci_merge_by_bus_address(tmp_path: Path) -> None:
    smi = fixture_text("real/nvidia-smi/rtx4070-driver550-cuda124.txt")
    # lspci -nnk line of the same bus address would match; nvidia-smi alone must still give one complete GPU
    profile, found = probe(capture(tmp_path, {"nvidia-smi": smi}))
    (gpu,) = profile.gpus
    assert (gpu.name, gpu.bdf, gpu.compute_capability, gpu.vram_bytes) == (
        "NVIDIA GeForce RTX 4070",
        "0000:2d:00.0",
        "8.9",
        12282 * 2**20,
    )
    assert (profile.nvidia_driver, profile.cuda_driver_version) == ("550.40.07", "12.4")
    assert not [f for f in found.values() if f.group in ("gpus", "drivers")]


def test_query_csv_compute_capability_and_table_names_merge(tmp_path: Path) -> None:
    table = fixture_text("real/nvidia-smi/titanv-rtx5880-list.txt")
    query = fixture_text("real/nvidia-smi/titanv-rtx5880-query-csv.txt")
    gpus = merge(Evidence(nvidia_smi=parse_nvidia_smi(table + "\n" + query)))
    assert [(g.name, g.compute_capability) for g in gpus] == [
        ("NVIDIA TITAN V", "7.0"),
        ("NVIDIA RTX 5880 Ada Generation", "8.9"),
    ]


def test_truncated_name_still_gives_compute_capability(tmp_path: Path) -> None:
    smi = fixture_text("real/nvidia-smi/gtx1050-truncated-name-driver384-no-cuda-version.txt")
    profile, _ = probe(capture(tmp_path, {"nvidia-smi": smi}))
    (gpu,) = profile.gpus
    assert (gpu.name, gpu.compute_capability, profile.cuda_driver_version) == ("GeForce GTX 105...", "6.1", None)


def test_nvidia_driver_unreachable(tmp_path: Path) -> None:
    lspci = fixture_text("real/lspci/gtx1650-mobile-nvidia-lspci-nnk.txt")
    smi = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    profile, found = probe(capture(tmp_path, {"lspci": lspci, "nvidia-smi": smi}))
    (gpu,) = profile.gpus
    assert (gpu.pci_id, gpu.compute_capability, gpu.name) == (
        "10de:1f91",
        "7.5",
        "NVIDIA GeForce GTX 1650 Mobile / Max-Q",
    )
    assert "cannot communicate" in found["gpu.nvidia_no_driver"].message


def test_sysfs_drm_and_kfd_files_in_a_capture(tmp_path: Path) -> None:
    """A capture of the RX 7900 XTX machine's sysfs: ids, driver link, VRAM, KFD node, PCIe link."""
    dev = "/sys/bus/pci/devices/0000:86:00.0"
    files = {
        f"{dev}/class": "0x030000\n",
        f"{dev}/vendor": "0x1002\n",
        f"{dev}/device": "0x744c\n",
        f"{dev}/revision": "0xc8\n",
        f"{dev}/current_link_speed": "16.0 GT/s PCIe\n",
        f"{dev}/current_link_width": "16\n",
        f"{dev}/max_link_speed": "16.0 GT/s PCIe\n",
        f"{dev}/max_link_width": "16\n",
        "/sys/class/drm/card1/device/uevent": "DRIVER=amdgpu\nPCI_ID=1002:744C\nPCI_SLOT_NAME=0000:86:00.0\n",
        "/sys/class/drm/card1/device/mem_info_vram_total": f"{24560 * 2**20}\n",
        "/sys/class/kfd/kfd/topology/nodes/0/properties": "cpu_cores_count 16\nsimd_count 0\n",
        "/sys/class/kfd/kfd/topology/nodes/1/properties": fixture_text(
            "real/kfd/rx7900xtx-gfx1100-node-properties-render-minor-templated.txt"
        ),
    }
    links = {
        dev: "../../../devices/pci0000:80/0000:80:01.1/0000:84:00.0/0000:85:00.0/0000:86:00.0",
        f"{dev}/driver": "../../../../bus/pci/drivers/amdgpu",
    }
    profile, found = probe(capture(tmp_path, files=files, links=links, facts={"device_access": {"/dev/kfd": "ok"}}))
    (gpu,) = profile.gpus
    assert (gpu.pci_id, gpu.gfx, gpu.name, gpu.driver, gpu.kfd_node) == (
        "1002:744c",
        "gfx1100",
        "AMD Radeon RX 7900 XTX",
        "amdgpu",
        1,
    )
    assert (gpu.vram_bytes, gpu.integrated, gpu.atomics_rejected, gpu.sources) == (
        24560 * 2**20,
        False,
        False,
        ["sysfs", "drm", "kfd"],
    )
    assert gpu.pcie is not None and (gpu.pcie.speed_gts, gpu.pcie.width) == (16.0, 16)
    assert not [f for f in found.values() if f.group in ("gpus", "drivers", "permissions")]


def test_sysfs_device_without_driver(tmp_path: Path) -> None:
    dev = "/sys/bus/pci/devices/0000:01:00.0"
    files = {f"{dev}/class": "0x030000\n", f"{dev}/vendor": "0x10de\n", f"{dev}/device": "0x1f91\n"}
    profile, found = probe(capture(tmp_path, files=files))
    (gpu,) = profile.gpus
    assert (gpu.driver, gpu.driver_bound) == (None, False)
    assert "no kernel driver is bound" in found["gpu.nvidia_no_driver"].message


def test_override_set_says_what_the_cards_pretend_to_be(tmp_path: Path) -> None:
    rocminfo = fixture_text("machines/rx6800xt-r7-7700x-raphael-igpu/commands/rocminfo.out")
    env = {"environment": {"HSA_OVERRIDE_GFX_VERSION": "10.3.0"}}
    profile, found = probe(capture(tmp_path, {"rocminfo": rocminfo}, facts=env))
    info = found["rocm.hsa_override_set"]
    assert profile.rocm.hsa_override == "10.3.0" and info.severity == "info"
    assert "gfx1030 (RDNA2)" in info.message and "gfx1036" in info.message

    lspci = fixture_text("machines/x5670-rx460-gfx803-x58/commands/lspci.out")
    profile, found = probe(capture(tmp_path / "b", {"lspci": lspci}, facts=env))
    assert found["rocm.hsa_override_set"].severity == "warning"
    assert "another generation" in found["rocm.hsa_override_set"].message


def test_commands_only_captures_without_any_gpu_output(tmp_path: Path) -> None:
    profile, _ = probe(capture(tmp_path, {"lscpu": "Architecture: x86_64\n"}))
    assert profile.gpus == [] and profile.nvidia_driver is None and profile.rocm.gpu_agents == []
    assert not profile.rocm.agents_listed and profile.pcie_atomics_rejected == []


def test_two_gpus_one_blocked_is_a_warning(tmp_path: Path) -> None:
    """An RX 460 refused by KFD next to a working NVIDIA card: SD uses the NVIDIA card."""
    lspci = fixture_text("machines/x5670-rx460-gfx803-x58/commands/lspci.out") + fixture_text(
        "real/lspci/rtx3080-lspci-nnk-indentation-lost.txt"
    )
    dmesg = fixture_text("machines/x5670-rx460-gfx803-x58/commands/dmesg.out")
    profile, found = probe(capture(tmp_path, {"lspci": lspci, "dmesg": dmesg}))
    assert [g.vendor for g in profile.gpus] == ["amd", "nvidia"]
    assert found["gpu.pcie_atomics_rejected"].severity == "warning"
    assert found["gpu.pcie_atomics_rejected"].blocks is None
