"""GPU tool parsers on real outputs (tests/fixtures/real/, sources in tests/fixtures/SOURCES.md), and fuzzed.

Expectations for the starter set are the facts recorded in the shared MANIFEST.yaml of real fixtures.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rigfit.probe.gpu.kernel_log import parse_kernel_log
from rigfit.probe.gpu.kfd import gfx_from_target_version, parse_node, parse_properties
from rigfit.probe.gpu.lspci import atomics_path_ok, parse_lspci, path_to_cpu
from rigfit.probe.gpu.nvidia_smi import parse_nvidia_smi
from rigfit.probe.gpu.paste import clean_lines, gts, parse_bdf
from rigfit.probe.gpu.rocm_smi import parse_rocm_smi
from rigfit.probe.gpu.rocminfo import parse_rocminfo
from rigfit.probe.gpu.runtimes import hip_version, nvidia_module_version, override_gfx, rocm_version
from tests.conftest import fixture_text

# rocminfo ---------------------------------------------------------------------------------------------------------


def test_rocminfo_rx6600xt_rocm501() -> None:
    out = parse_rocminfo(fixture_text("real/rocminfo/gfx1032-rx6600xt-ryzen5-3600-rocm501.txt"))
    assert out.kfd_loaded is True and out.runtime_version == "1.1" and out.error is None
    (gpu,) = out.gpus
    assert (gpu.gfx, gpu.marketing_name, gpu.chip_id, gpu.compute_units) == (
        "gfx1032",
        "AMD Radeon RX 6600 XT",
        "73ff",
        32,
    )
    assert gpu.vram_bytes == 8372224 * 1024 and gpu.bdf == "0000:0c:00.0" and gpu.node == 1
    assert [a.name for a in out.agents if a.device_type == "CPU"] == ["AMD Ryzen 5 3600 6-Core Processor"]


def test_rocminfo_rocm18_old_format_two_polaris() -> None:
    out = parse_rocminfo(fixture_text("real/rocminfo/gfx803-2x-rx480-xeon-e5-2650v2-rocm18-oldformat.txt"))
    assert [(g.gfx, g.chip_id, g.compute_units, g.bdf) for g in out.gpus] == [
        ("gfx803", "67df", 36, "0000:02:00.0"),
        ("gfx803", "67df", 36, "0000:03:00.0"),
    ]
    assert all(g.marketing_name is None and g.vram_bytes == 8388608 * 1024 for g in out.gpus)


def test_rocminfo_cpu_only_lists_no_gpu() -> None:
    out = parse_rocminfo(fixture_text("real/rocminfo/cpu-only-i5-4200u-hd8750m-rocm62.txt"))
    assert out.listed_agents and out.gpus == [] and out.runtime_version == "1.14"


def test_rocminfo_permission_denied_is_an_error_not_an_empty_list() -> None:
    out = parse_rocminfo(fixture_text("real/rocminfo/kfd-permission-denied-in-docker-missing-render-group.txt"))
    assert out.error == "kfd_permission_denied" and not out.listed_agents and out.kfd_loaded is True


def test_rocminfo_paste_starting_inside_an_agent() -> None:
    out = parse_rocminfo(fixture_text("real/rocminfo/gfx1100-rx7900xtx-agent-excerpt-mid-output.txt"))
    (gpu,) = out.gpus
    assert (gpu.gfx, gpu.chip_id, gpu.bdf, gpu.marketing_name) == (
        "gfx1100",
        "744c",
        "0000:23:00.0",
        "Radeon RX 7900 XTX",
    )


# rocm-smi ---------------------------------------------------------------------------------------------------------


def test_rocm_smi_meminfo_in_code_fences() -> None:
    out = parse_rocm_smi(fixture_text("real/rocm-smi/showmeminfo-vram-4gb.txt"))
    (gpu,) = out.gpus
    assert (gpu.vram_total_bytes, gpu.vram_used_bytes) == (4278190080, 108814336)


def test_rocm_smi_concise_table_counts_gpus() -> None:
    out = parse_rocm_smi(fixture_text("real/rocminfo/kfd-permission-denied-in-docker-missing-render-group.txt"))
    assert [g.index for g in out.gpus] == [0, 1, 2, 3] and not out.no_gpus


def test_rocm_smi_product_names_in_three_layouts() -> None:
    fiji = parse_rocm_smi(fixture_text("real/rocm-smi/fiji-r9-fury-x-showproductname.txt")).gpus[0]
    assert fiji.card_series == "Fiji [Radeon R9 FURY / NANO Series]" and fiji.device_id is None
    mi100 = parse_rocm_smi(fixture_text("real/rocm-smi/mi100-rocm40-showproductname-hex-series.txt")).gpus[0]
    assert mi100.device_id == "738c" and mi100.card_series is None  # "Card model: 0xc34" is the board, not the chip
    csv = parse_rocm_smi(fixture_text("real/rocm-smi/mi100x2-showproductname-csv.txt")).gpus
    assert [g.card_series for g in csv] == ["Arcturus GL-XL [AMD Instinct MI100]"] * 2


# nvidia-smi -------------------------------------------------------------------------------------------------------


def test_nvidia_smi_table_rtx4070() -> None:
    out = parse_nvidia_smi(fixture_text("real/nvidia-smi/rtx4070-driver550-cuda124.txt"))
    assert (out.driver_version, out.cuda_version) == ("550.40.07", "12.4")
    (gpu,) = out.gpus
    assert (gpu.name, gpu.bdf, gpu.memory_total_mib) == ("NVIDIA GeForce RTX 4070", "0000:2d:00.0", 12282)


def test_nvidia_smi_old_driver_truncated_name_and_no_cuda_line() -> None:
    out = parse_nvidia_smi(fixture_text("real/nvidia-smi/gtx1050-truncated-name-driver384-no-cuda-version.txt"))
    assert (out.driver_version, out.cuda_version) == ("384.111", None)
    (gpu,) = out.gpus
    assert (gpu.name, gpu.name_truncated, gpu.memory_total_mib) == ("GeForce GTX 105...", True, 4041)


def test_nvidia_smi_cuda_na_stays_unknown() -> None:
    out = parse_nvidia_smi(fixture_text("real/nvidia-smi/rtx5070-cuda-version-na.txt"))
    assert (out.driver_version, out.cuda_version, out.gpus[0].memory_total_mib) == ("575.64.03", None, 12227)


def test_nvidia_smi_pci_domain_and_prompt() -> None:
    out = parse_nvidia_smi(fixture_text("real/nvidia-smi/rtx3060-pi-cm5-domain1-driver580.txt"))
    assert (out.cuda_version, out.gpus[0].bdf, out.gpus[0].name) == ("13.0", "0001:01:00.0", "NVIDIA GeForce RTX 3060")


def test_nvidia_smi_list_query_csv_and_q() -> None:
    listed = parse_nvidia_smi(fixture_text("real/nvidia-smi/titanv-rtx5880-list.txt"))
    assert [g.name for g in listed.gpus] == ["NVIDIA TITAN V", "NVIDIA RTX 5880 Ada Generation"]
    csv = parse_nvidia_smi(fixture_text("real/nvidia-smi/titanv-rtx5880-query-csv.txt"))
    assert [(g.index, g.name, g.compute_capability) for g in csv.gpus] == [
        (0, "NVIDIA TITAN V", "7.0"),
        (1, "NVIDIA RTX 5880 Ada Generation", "8.9"),
    ]
    assert csv.driver_version == "570.86.15"
    q = parse_nvidia_smi(fixture_text("real/nvidia-smi/geforce920mx-query-q-driver440.txt"))
    assert (q.driver_version, q.cuda_version) == ("440.33.01", "10.2")
    assert [(g.name, g.bdf) for g in q.gpus] == [("GeForce 920MX", "0000:03:00.0")]


def test_nvidia_smi_failures() -> None:
    text = (
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
        "Make sure that the latest NVIDIA driver is installed and running."
    )
    assert parse_nvidia_smi(text).error == "no_driver"
    assert parse_nvidia_smi("Failed to initialize NVML: Driver/library version mismatch").error == "version_mismatch"


# lspci ------------------------------------------------------------------------------------------------------------


def test_lspci_vvv_path_and_atomics_routing() -> None:
    devices = parse_lspci(fixture_text("real/lspci/rx560-behind-x570-chipset-switch-atomics-routing-lspci-vvv.txt"))
    (gpu,) = [d for d in devices if d.is_gpu]
    assert (gpu.slot, gpu.vendor, gpu.revision, gpu.driver) == ("0000:06:00.0", "amd", "cf", "amdgpu")
    assert gpu.device_name.startswith("Baffin [Radeon RX 460/560D")  # the header was wrapped by the terminal
    assert (gpu.link_cap, gpu.link_sta) == ((8.0, 8), (2.5, 4))
    assert (gpu.atomic_32, gpu.atomic_64) == (True, True)
    assert [p.slot for p in path_to_cpu(gpu, devices)] == ["0000:03:02.0", "0000:02:00.0", "0000:00:01.2"]
    assert atomics_path_ok(gpu, devices) is False  # the X570 chipset switch ports say Routing-


def test_lspci_nonroot_vv_nouveau() -> None:
    (gpu,) = parse_lspci(fixture_text("real/lspci/gtx970-nouveau-lspci-vv-nonroot.txt"))
    assert (gpu.vendor, gpu.driver, gpu.modules, gpu.caps_denied) == (
        "nvidia",
        "nouveau",
        ["nouveau", "nvidia_drm", "nvidia"],
        True,
    )
    assert gpu.device_name == "GM204 [GeForce GTX 970]" and gpu.link_sta is None
    assert atomics_path_ok(gpu, [gpu]) is None  # no bridges pasted: unknown, not "no"


def test_lspci_nnk_ids_and_lost_indentation() -> None:
    devices = parse_lspci(fixture_text("real/lspci/gtx1650-mobile-nvidia-lspci-nnk.txt"))
    assert [(d.pci_id, d.class_code, d.driver, d.is_gpu) for d in devices] == [
        ("10de:1f91", "0300", "nvidia", True),
        ("10de:10fa", "0403", "snd_hda_intel", False),
    ]
    flat = parse_lspci(fixture_text("real/lspci/rtx3080-lspci-nnk-indentation-lost.txt"))
    assert [(d.slot, d.pci_id, d.driver) for d in flat] == [
        ("0000:3e:00.0", "10de:2206", "nvidia"),
        ("0000:3e:00.1", "10de:1aef", "snd_hda_intel"),
    ]


def test_lspci_machine_readable_forms() -> None:
    mm = parse_lspci('01:00.0 "VGA compatible controller [0300]" "NVIDIA Corporation [10de]" "GA106 [2504]" -ra1')
    assert (mm[0].pci_id, mm[0].revision, mm[0].is_gpu) == ("10de:2504", "a1", True)
    vmm = parse_lspci(
        "Slot:\t03:00.0\nClass:\tVGA compatible controller\nVendor:\tAdvanced Micro Devices, Inc. [AMD/ATI]"
    )
    assert (vmm[0].slot, vmm[0].vendor) == ("0000:03:00.0", "amd")


# kernel log, KFD, version files -----------------------------------------------------------------------------------


def test_kernel_log_atomics_rejection() -> None:
    log = parse_kernel_log(fixture_text("real/dmesg/rx580-x58-x5650-pci-rejects-atomics.txt"))
    assert log.atomics_rejected == ["1002:67df"] and log.gpus == []
    newer = parse_kernel_log("[    4.592356] kfd kfd: amdgpu: skipped device 1002:67ef, PCI rejects atomics 730<0")
    assert newer.atomics_rejected == ["1002:67ef"]


def test_kernel_log_kms_line_without_pci_address() -> None:
    log = parse_kernel_log(fixture_text("real/dmesg/rx7900xtx-ip-discovery-kms-no-bdf.txt"))
    (gpu,) = log.gpus
    assert (gpu.bdf, gpu.pci_id, gpu.revision, gpu.asic, gpu.driver) == (None, "1002:744c", "c8", None, "amdgpu")


def test_kernel_log_unreadable() -> None:
    assert parse_kernel_log("dmesg: read kernel buffer failed: Operation not permitted").not_readable


def test_kfd_node_properties() -> None:
    node = parse_node(1, fixture_text("real/kfd/rx7900xtx-gfx1100-node-properties-render-minor-templated.txt"))
    assert node is not None
    assert (node.gfx, node.pci_id, node.bdf, node.render_minor) == ("gfx1100", "1002:744c", "0000:86:00.0", None)
    assert parse_node(0, "cpu_cores_count 16\nsimd_count 0\ngfx_target_version 0\n") is None
    assert parse_properties("garbage\nkey 12\nbad x y\n") == {"key": 12}


def test_kfd_malformed_numbers_are_skipped_not_raised() -> None:
    text = "simd_count --5\nlocation_id \u00b2\nvendor_id \u0663\ndevice_id 29695\ngfx_target_version 100302\n"
    assert parse_properties(text) == {"device_id": 29695, "gfx_target_version": 100302}
    node = parse_node(1, text)
    assert node is not None and (node.gfx, node.vendor_id, node.device_id, node.bdf) == ("gfx1032", None, "73ff", None)


def test_gfx_target_version_encoding() -> None:
    assert [gfx_from_target_version(v) for v in (100302, 90010, 110002, 80003, 0, None, -5)] == [
        "gfx1032",
        "gfx90a",
        "gfx1102",
        "gfx803",
        None,
        None,
        None,
    ]


def test_version_files_and_override() -> None:
    assert nvidia_module_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.40.07  Wed Jan 24 2024") == (
        "550.40.07"
    )
    assert nvidia_module_version("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release") == (
        "570.86.15"
    )
    assert nvidia_module_version("550.40.07\n") == "550.40.07" and nvidia_module_version("garbage") is None
    assert rocm_version(fixture_text("machines/x5670-rx460-gfx803-x58/files/opt/rocm/.info/version")) == "5.3.0"
    assert rocm_version("6.2.4-120\n") == "6.2.4" and hip_version("6.2.41134-65d174c3e") == "6.2.41134"
    assert [override_gfx(v) for v in ("10.3.0", "11.0.0", "9.0.10", "10.3", "abc", None)] == [
        "gfx1030",
        "gfx1100",
        "gfx90a",
        None,
        None,
        None,
    ]


def test_paste_cleaning() -> None:
    text = "```\n$ lspci\n<details>\n01:00.0 VGA\n...\n> 02:00.0 x\r\n```"
    assert clean_lines(text) == ["01:00.0 VGA", "02:00.0 x"]
    assert parse_bdf("00000000:2D:00.0") == "0000:2d:00.0" and parse_bdf("no") is None
    assert gts("8.0 GT/s PCIe") == 8.0 and gts("Unknown") is None


# fuzz: no parser ever raises --------------------------------------------------------------------------------------

PARSERS = (parse_lspci, parse_rocminfo, parse_rocm_smi, parse_nvidia_smi, parse_kernel_log, parse_properties)
REAL = [
    "real/lspci/rx560-behind-x570-chipset-switch-atomics-routing-lspci-vvv.txt",
    "real/rocminfo/gfx1032-rx6600xt-ryzen5-3600-rocm501.txt",
    "real/nvidia-smi/rtx4070-driver550-cuda124.txt",
    "real/rocm-smi/mi100x2-showproductname-csv.txt",
]
MALFORMED_NUMBERS = st.sampled_from(["--5", "\u00b2", "\u0663", "-", "+7", "1e3", "0x10", "\uff11\uff12", "9" * 5000])
LONG_LINE_UNITS = st.sampled_from(["x:", "x@", "0", "0.", "0 ", "a ", " ", "\t", ": ", "GPU[0] ", "| ", "[0", '" "'])
LONG_LINE_PREFIXES = st.sampled_from(
    [
        "",
        "03:00.0 VGA compatible controller [0300]: AMD [1002:73ff]\n\tLnkSta: ",
        "03:00.0 VGA compatible controller [0300]: ",
        "Agent 2\n  Name: ",
        "GPU[0] : ",
        "| NVIDIA-SMI 550.54 Driver Version: ",
        "[    1.000] amdgpu: ",
        "simd_count ",
    ]
)


def parse_node_of(text: str) -> None:
    parse_node(1, text)


TOKENS = st.sampled_from(
    ["GPU[0]", ":", "|", "0x73ff", "Agent 1", "Name:", "gfx", "[1002:67df]", "(rev", "MiB", "/", "\t", "\n", "..."]
)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_parsers_never_raise_on_garbage(text: str) -> None:
    for parse in PARSERS:
        parse(text)


@settings(max_examples=150, deadline=None)
@given(st.lists(TOKENS | st.text(max_size=8), max_size=60))
def test_parsers_never_raise_on_tool_like_tokens(tokens: list[str]) -> None:
    text = " ".join(tokens)
    for parse in PARSERS:
        parse(text)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["simd_count", "location_id", "vendor_id", "device_id", "gfx_target_version", "domain"]),
    MALFORMED_NUMBERS | st.text(max_size=6),
)
def test_kfd_properties_never_raise_on_malformed_numbers(key: str, number: str) -> None:
    text = f"gfx_target_version 100302\n{key} {number}\nsimd_count 64\n"
    props = parse_properties(text)
    assert all(isinstance(v, int) for v in props.values())
    parse_node(1, text)


# a line of thousands of repeats of what a regex looks for: each parser must stay linear in it (a backtracking
# pattern took 20 s on an 80 KB line); the deadline fails a parser that is quadratic again
@settings(max_examples=80, deadline=5000)
@given(LONG_LINE_PREFIXES, LONG_LINE_UNITS | st.text(min_size=1, max_size=4), st.integers(10_000, 80_000))
def test_parsers_stay_fast_on_long_lines(prefix: str, unit: str, size: int) -> None:
    text = prefix + unit * (size // len(unit)) + "x\n"
    for parse in (*PARSERS, gts, parse_node_of):
        parse(text)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(REAL), st.integers(min_value=0, max_value=4000), st.integers(min_value=0, max_value=4000))
def test_parsers_never_raise_on_cut_real_outputs(path: str, start: int, length: int) -> None:
    """A paste that lost its beginning (first character cut off) or its end."""
    text = fixture_text(path)[start : start + length]
    for parse in PARSERS:
        parse(text)
