"""The GPU knowledge table: ids resolve to the right chip, gfx target, compute capability and name."""

from __future__ import annotations

import pytest

from rigfit.kb.gpus import (
    cuda_arch,
    gfx_family,
    hex_id,
    lookup_chip,
    lookup_name,
    lookup_pci,
    models,
    vendor_name,
)


@pytest.mark.parametrize(
    ("vendor", "device", "revision", "gfx", "name"),
    [
        ("1002", "73ff", "c1", "gfx1032", "AMD Radeon RX 6600 XT"),
        ("0x1002", "0x73FF", "0xdf", "gfx1031", "AMD Radeon RX 6750 GRE 10GB"),  # same device id, other chip
        ("1002", "73ff", None, "gfx1032", "AMD Radeon RX 6600/6650 (Navi 23)"),
        ("1002", "67df", "e7", "gfx803", "AMD Radeon RX 580 Series"),
        ("1002", "67ef", "cf", "gfx803", "AMD Radeon RX 460 Graphics"),
        ("1002", "7340", "c5", "gfx1012", "AMD Radeon RX 5500 XT"),
        ("1002", "744c", "c8", "gfx1100", "AMD Radeon RX 7900 XTX"),
        ("1002", "7550", "c0", "gfx1201", "AMD Radeon RX 9070 XT"),
        ("1002", "164c", None, "gfx90c", "AMD Radeon Graphics (Renoir/Cezanne APU)"),
        ("1002", "66af", "c1", "gfx906", "AMD Radeon VII"),
    ],
)
def test_amd_ids_resolve_to_gfx_and_name(vendor: str, device: str, revision: str | None, gfx: str, name: str) -> None:
    model = lookup_pci(vendor, device, revision)
    assert model is not None and model.gfx == gfx
    assert model.name_for(device, revision) == name


@pytest.mark.parametrize(
    ("device", "cc", "name", "family"),
    [
        ("139a", "5.0", "NVIDIA GeForce GTX 950M", "Maxwell"),
        ("13c2", "5.2", "NVIDIA GeForce GTX 970", "Maxwell"),
        ("1c82", "6.1", "NVIDIA GeForce GTX 1050 Ti", "Pascal"),
        ("1f91", "7.5", "NVIDIA GeForce GTX 1650 Mobile / Max-Q", "Turing"),
        ("2504", "8.6", "NVIDIA GeForce RTX 3060 Lite Hash Rate", "Ampere"),
        ("2786", "8.9", "NVIDIA GeForce RTX 4070", "Ada Lovelace"),
        ("2b85", "12.0", "NVIDIA GeForce RTX 5090", "Blackwell"),
        ("2335", "9.0", "NVIDIA H200 SXM 141GB", "Hopper"),
    ],
)
def test_nvidia_ids_resolve_to_compute_capability(device: str, cc: str, name: str, family: str) -> None:
    model = lookup_pci("10de", device)
    assert model is not None
    assert (model.compute_capability, model.family, model.name_for(device)) == (cc, family, name)
    assert model.integrated is False


def test_unknown_ids_stay_unknown() -> None:
    assert lookup_pci("1002", "ffff") is None
    assert lookup_pci("8086", "9a60") is None
    assert lookup_pci("garbage", "") is None


def test_every_device_id_belongs_to_one_chip() -> None:
    seen: dict[tuple[str, str], str] = {}
    for model in models():
        for device in model.devices:
            key = (model.vendor, device)
            assert key not in seen, f"{device} is in {seen[key]} and {model.id}"
            seen[key] = model.id


def test_entries_are_consistent() -> None:
    for model in models():
        assert model.sources
        assert (model.gfx is None) == (model.vendor != "amd"), model.id
        assert (model.compute_capability is None) == (model.vendor != "nvidia"), model.id
        assert model.xpu is False or model.vendor == "intel", model.id
        if model.vendor == "intel":  # no ISA table: what it runs is `xpu`
            continue
        arch = gfx_family(model.gfx) if model.gfx else cuda_arch(model.compute_capability)
        assert arch is not None, f"{model.id}: {model.gfx or model.compute_capability} missing from gpu_arch.yaml"
        if model.vendor == "amd":
            assert arch.apu_only == model.integrated, model.id
        for key in model.names:
            assert key.split(":")[0] in {d.split(":")[0] for d in model.devices}, f"{model.id}: name for {key}"


def test_intel_gpus_say_whether_pytorch_xpu_runs_them() -> None:
    """Arc (DG2, Battlemage) and the Core Ultra iGPUs PyTorch validates run its XPU build; older iGPUs run nothing."""
    arc, b580, uhd620, bay_trail = (lookup_pci("8086", d) for d in ("56a0", "e20b", "5917", "0f31"))
    assert arc is not None and arc.xpu and arc.name_for("56a0") == "Intel Arc A770" and not arc.integrated
    assert b580 is not None and b580.xpu and b580.name_for("e20b") == "Intel Arc B580"
    assert uhd620 is not None and not uhd620.xpu and uhd620.integrated
    assert bay_trail is not None and not bay_trail.xpu


def test_covers_every_consumer_gfx_from_gfx8_to_gfx12() -> None:
    wanted = {
        "gfx802", "gfx803", "gfx900", "gfx902", "gfx904", "gfx906", "gfx90c", "gfx1010", "gfx1011", "gfx1012",
        "gfx1030", "gfx1031", "gfx1032", "gfx1033", "gfx1034", "gfx1035", "gfx1036", "gfx1100", "gfx1101", "gfx1102",
        "gfx1103", "gfx1150", "gfx1151", "gfx1152", "gfx1200", "gfx1201",
    }  # fmt: skip
    assert wanted <= {m.gfx for m in models() if m.gfx}
    assert {"5.0", "5.2", "6.1", "7.5", "8.6", "8.9", "12.0"} <= {m.compute_capability for m in models()}


def test_apu_only_and_atomics_tables() -> None:
    assert gfx_family("gfx1103").apu_only and gfx_family("gfx90c").apu_only
    assert not gfx_family("gfx1100").apu_only
    assert gfx_family("gfx803").requires_pcie_atomics and not gfx_family("gfx900").requires_pcie_atomics
    assert gfx_family("gfx90a:sramecc+:xnack-").architecture == "CDNA2"
    assert gfx_family(None) is None and gfx_family("gfx9999") is None
    assert cuda_arch("8.6").architecture == "Ampere" and cuda_arch("garbage") is None


def test_names_match_what_tools_print() -> None:
    assert {m.compute_capability for m in lookup_name("NVIDIA GeForce RTX 3060")} == {"8.6"}
    assert [m.id for m in lookup_name("NVIDIA GeForce RTX 5090")] == ["nvidia-gb202"]
    # nvidia-smi cuts long names: "GeForce GTX 105..." is a 1050 or a 1050 Ti, both Pascal sm_61
    assert {m.compute_capability for m in lookup_name("GeForce GTX 105...")} == {"6.1"}
    assert lookup_name("") == [] and lookup_name("NVIDIA GeForce 8800 GTX") == []  # Tesla (G80): not in the KB
    # Kepler and Fermi are (issue 10, heldd): their compute capability is what makes the plan refuse CUDA
    assert {m.compute_capability for m in lookup_name("NVIDIA GeForce GTX 780")} == {"3.5"}


@pytest.mark.parametrize(
    ("text", "model_id"),
    [
        ("Advanced Micro Devices, Inc. [AMD/ATI] Navi 23 [Radeon RX 6600/6600 XT/6600M] (rev c1)", "amd-navi23"),
        ("Baffin [Radeon RX 460/560D / Pro 450/455/460/555/555X/560/560X]", "amd-polaris11"),
        ("amdgpu/navi14_sos.bin", "amd-navi14"),
        ("initializing kernel modesetting (DIMGREY_CAVEFISH 0x1002:0x73FF", "amd-navi23"),
        ("NVIDIA Corporation GM107M [GeForce GTX 950M]", "nvidia-gm107"),
        ("Strix Halo", "amd-strix-halo"),
    ],
)
def test_chip_codenames_in_free_text(text: str, model_id: str) -> None:
    model = lookup_chip(text)
    assert model is not None and model.id == model_id


def test_helpers() -> None:
    assert hex_id("0x73FF") == "73ff" and hex_id("zz") == "" and hex_id("c1", width=2) == "c1"
    assert vendor_name("0x10de") == "nvidia" and vendor_name("1234abcd") is None
    assert lookup_chip("Navi 2x") is None
