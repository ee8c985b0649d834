"""The classes round heldd5 (issue 10) fixed, each on a real paste or a KB fact: a headerless --query-gpu row names
its GPU by its first name-shaped value, a variant product name finds its compute capability only when every chip
sold under that number agrees, rocm-smi's decimal gfx stepping, inxi/lshw read as lspci devices."""

from __future__ import annotations

from rigfit.kb.gpus import lookup_series
from rigfit.probe.gpu.lspci import parse_lspci
from rigfit.probe.gpu.nvidia_smi import parse_nvidia_smi
from rigfit.probe.gpu.rocm_smi import parse_rocm_smi
from tests.conftest import FIXTURES

DOCTOR = FIXTURES / "doctor"


def read(name: str) -> str:
    return (DOCTOR / name).read_text(encoding="utf-8")


def test_a_headerless_query_row_is_named_by_its_name_not_its_pstate() -> None:
    gpus = parse_nvidia_smi(read("nvidia-smi-query-csv-noheader--gtx770.txt")).gpus
    assert [g.name for g in gpus] == ["GeForce GTX 770"]


def test_a_product_number_gives_a_compute_capability_only_when_its_chips_agree() -> None:
    assert {m.compute_capability for m in lookup_series("A100-SXM-80GB")} == {"8.0"}
    assert len({m.compute_capability for m in lookup_series("GeForce GT 730")}) > 1  # Fermi and Kepler: unknown
    assert lookup_series("GeForce GTX") == []  # no product number, no series


def test_rocm_smi_json_gives_the_device_id_and_the_decimal_stepping_as_gfx() -> None:
    (gpu,) = parse_rocm_smi(read("rocm-smi-showproductname-json--mi200-7408-gfx9010.txt")).gpus
    assert (gpu.device_id, gpu.gfx) == ("7408", "gfx90a")


def test_the_rocm_smi_csv_card_model_stays_a_board_id() -> None:
    """Without a "Subsystem ID" beside it, "Card model: 0x0c34" is the board (MI100 is 738c), not the device."""
    text = (FIXTURES / "real" / "rocm-smi" / "mi100x2-showproductname-csv.txt").read_text(encoding="utf-8")
    assert {g.device_id for g in parse_rocm_smi(text).gpus} == {None}


def test_inxi_one_line_and_key_per_line_forms_read_as_gpus() -> None:
    (gtx,) = parse_lspci(read("inxi-Gx--gtx1080-nvidia-430.txt"))
    assert (gtx.slot, gtx.vendor, gtx.driver, gtx.is_gpu) == ("0000:01:00.0", "nvidia", "nvidia", True)
    assert "GP104" in gtx.description
    (cedar,) = parse_lspci(read("inxi-Gay1-cut--cedar-68f9-radeon.txt"))
    assert (cedar.slot, cedar.pci_id, cedar.driver) == ("0000:0a:00.0", "1002:68f9", "radeon")


def test_lshw_framebuffer_names_are_no_product_and_the_driver_says_the_vendor() -> None:
    nvidia, amd = parse_lspci(read("lshw-c-display--legion-nvidia-and-amdgpu.txt"))
    assert (nvidia.slot, nvidia.vendor, nvidia.driver) == ("0000:01:00.0", "nvidia", "nvidia")
    assert (amd.slot, amd.vendor, amd.driver) == ("0000:05:00.0", "amd", "amdgpu")
    assert "amdgpudrmfb" not in nvidia.description + amd.description


def test_plain_lspci_is_not_taken_for_a_display_tool() -> None:
    devices = parse_lspci(read("lspci-nn-grep-vga-3d--intel-3e9b-mx130-gtx970-egpu.txt"))
    assert [d.pci_id for d in devices if d.is_gpu] == ["8086:3e9b", "10de:174d", "10de:13c2"]
