"""CPU probe: real cpuinfo/lscpu outputs (tests/fixtures/real/cpuinfo, sources in SOURCES.md) -> facts and findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rigfit.kb.typed import dump
from rigfit.probe.cpu import cpu_findings, probe_cpu
from rigfit.probe.cpu_text import CpuText, flag_states, parse_cpuinfo, parse_lscpu, x86_64_level
from rigfit.probe.profile import CpuInfo, Profile
from rigfit.probe.source import CaptureSource, LiveSource
from tests.conftest import FIXTURES, DeniedSource, fixture_text

CPUINFO = FIXTURES / "real" / "cpuinfo"
# expectations copied from shared/fixtures/real/MANIFEST.yaml (cpuinfo cases)
MANIFEST = yaml.safe_load((FIXTURES / "real" / "cpuinfo-manifest.yaml").read_text())["cases"]


def parse(name: str) -> CpuText:
    text = fixture_text(f"real/cpuinfo/{name}")
    return parse_lscpu(text) if "lscpu" in name else parse_cpuinfo(text)


def cpu_from(name: str, arch: str | None = None, tmp: Path | None = None) -> CpuInfo:
    """probe_cpu over a capture holding the fixture where the live machine would have it."""
    assert tmp is not None
    text = fixture_text(f"real/cpuinfo/{name}")
    if "lscpu" in name:
        (tmp / "commands").mkdir(parents=True, exist_ok=True)
        (tmp / "commands" / "lscpu.out").write_text(text)
    else:
        (tmp / "files" / "proc").mkdir(parents=True, exist_ok=True)
        (tmp / "files" / "proc" / "cpuinfo").write_text(text)
    if arch:
        (tmp / "commands").mkdir(parents=True, exist_ok=True)
        (tmp / "commands" / "uname-m.out").write_text(arch + "\n")
    warnings: list[str] = []
    return probe_cpu(CaptureSource(tmp), warnings.append)


def findings_for(cpu: CpuInfo) -> dict[str, str]:
    return {f.id: f.message for f in cpu_findings(Profile(cpu=cpu))}


@pytest.mark.parametrize("case", MANIFEST, ids=lambda c: Path(c["path"]).name)
def test_manifest_expectations(case: dict, tmp_path: Path) -> None:
    cpu = cpu_from(Path(case["path"]).name, tmp=tmp_path)
    exp = case["expected"]
    if "arch" in exp:
        assert cpu.arch == exp["arch"]
    if "model_name" in exp:
        assert cpu.model == " ".join(exp["model_name"].split())
    for key, field in (("has_sse4_2", "sse4_2"), ("has_avx", "avx"), ("has_avx2", "avx2"), ("has_fma", "fma")):
        if key in exp:
            assert getattr(cpu, field) is exp[key], field
    if "has_avx512" in exp:
        assert cpu.avx512f is exp["has_avx512"]
    if exp.get("vendor") == "GenuineIntel":
        assert cpu.vendor == "intel"
    if exp.get("x86_flags_applicable") is False:
        assert cpu.x86_64_level is None
        assert not any(f.startswith("cpu.") and "avx" in f for f in findings_for(cpu))


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("core2-duo-e8400-lscpu.txt", 1),
        ("qemu-virtual-cpu64-rhel6-kvm-lscpu-prompt.txt", 1),
        ("xeon-x5670-westmere-lscpu.txt", 2),
        ("celeron-1037u-ivybridge-noavx-cpuinfo.txt", 2),
        ("core-i7-2600k-sandybridge-lscpu.txt", 2),
        ("amd-ryzen5-3600-zen2-lscpu.txt", 3),
        ("intel-i3-7100u-kabylake-cpuinfo.txt", 3),
        ("xeon-e5-2699v4-cpuinfo-broken-lines-truncated.txt", 3),
        ("amd-ryzen7-9800x3d-zen5-lscpu-wrapped-pasted.txt", 4),
    ],
)
def test_x86_64_level_of_real_cpus(name: str, level: int) -> None:
    parsed = parse(name)
    assert x86_64_level(parsed.flags, parsed.flags_complete) == level


def test_lscpu_wrapped_mid_word_by_the_terminal_is_joined_back() -> None:
    zen5 = parse("amd-ryzen7-9800x3d-zen5-lscpu-wrapped-pasted.txt")
    assert zen5.model == "AMD Ryzen 7 9800X3D 8-Core Processor"
    assert (zen5.threads, zen5.sockets, zen5.cores) == (16, 1, 8)
    for whole in ("pni", "mwaitx", "avx512vl", "decodeassists", "smca", "avx512_bf16", "avx512_vnni"):
        assert whole in zen5.flags
    for fragment in ("pn", "i", "mw", "aitx", "512vl", "s", "decodeassist"):
        assert fragment not in zen5.flags
    states, problems = flag_states(zen5.flags, zen5.flags_complete)
    assert states["avx512_bf16"] is True and states["amx_bf16"] is False and problems == []


def test_forum_broken_flags_line_cut_short_leaves_later_flags_unknown() -> None:
    e5 = parse("xeon-e5-2699v4-cpuinfo-broken-lines-truncated.txt")
    assert e5.flags_complete is False
    assert "cpuid" in e5.flags and "cdp_l3" in e5.flags and "nonstop_tsccpuid" not in e5.flags
    states, _ = flag_states(e5.flags, e5.flags_complete)
    # avx512f would be printed before xsaveopt, which is there: known absent. avx512_bf16 would come after the cut.
    assert states["avx2"] is True and states["avx512f"] is False
    assert states["avx512_bf16"] is None and states["amx_bf16"] is None


def test_arm_cpus_get_no_x86_findings_but_the_lse_atomics_check() -> None:
    a72 = CpuInfo(arch="aarch64", flags=parse("arm-cortex-a72-lscpu.txt").flags)
    thunderx = CpuInfo(arch="aarch64", flags=parse("arm64-cavium-thunderx-scaleway-cpuinfo.txt").flags)
    assert set(findings_for(a72)) == {"cpu.torch-aarch64-lse-atomics"}
    assert findings_for(thunderx) == {}


def test_arm_lscpu_and_cpuinfo_facts(tmp_path: Path) -> None:
    a72 = cpu_from("arm-cortex-a72-lscpu.txt", tmp=tmp_path / "a")
    assert (a72.arch, a72.vendor, a72.model, a72.threads) == ("aarch64", "arm", "Cortex-A72", 4)
    assert a72.avx is False and a72.sse4_2 is False and a72.x86_64_level is None
    thunderx = cpu_from("arm64-cavium-thunderx-scaleway-cpuinfo.txt", tmp=tmp_path / "b")
    # a hand-assembled capture holds a paste, which may stop after any block: at least 2 threads, not 2
    assert (thunderx.arch, thunderx.vendor, thunderx.threads, thunderx.threads_at_least) == (
        "aarch64",
        "cavium",
        None,
        2,
    )


def test_the_machines_own_cpuinfo_gives_the_count(tmp_path: Path) -> None:
    """The same file in a capture `rigfit capture` wrote (its meta has "collected"), or read live, is whole."""
    (tmp_path / "files" / "proc").mkdir(parents=True)
    (tmp_path / "files" / "proc" / "cpuinfo").write_text(
        fixture_text("real/cpuinfo/arm64-cavium-thunderx-scaleway-cpuinfo.txt")
    )
    (tmp_path / "rigfit-capture.json").write_text(
        json.dumps({"rigfit_version": "test", "collected": ["/proc/cpuinfo"]})
    )
    cpu = probe_cpu(CaptureSource(tmp_path), [].append)
    assert (cpu.threads, cpu.threads_at_least) == (2, None)
    assert probe_cpu(LiveSource(str(tmp_path / "files")), [].append).threads == 2


def test_westmere_without_avx_gets_the_rocm_warning_and_the_routes(tmp_path: Path) -> None:
    cpu = cpu_from("xeon-x5670-westmere-lscpu.txt", tmp=tmp_path)
    assert (cpu.sockets, cpu.cores, cpu.threads, cpu.x86_64_level) == (2, 12, 24, 2)
    found = cpu_findings(Profile(cpu=cpu))
    assert [f.id for f in found] == ["cpu.no-avx-routes"]
    message = found[0].message
    assert "Illegal instruction" in message and "rigfit verify --cpu westmere" in found[0].fix
    assert "CPU-only torch wheels do run" in message
    assert "torch-rocm-avx" in found[0].kb and found[0].severity == "warning" and found[0].blocks is None


def test_core2_gets_the_numpy_pin(tmp_path: Path) -> None:
    cpu = cpu_from("core2-duo-e8400-lscpu.txt", tmp=tmp_path)
    found = {f.id: f for f in cpu_findings(Profile(cpu=cpu))}
    assert set(found) == {"cpu.numpy-2.4-x86-64-v2", "cpu.no-avx-routes"}
    assert '"numpy<2.4"' in (found["cpu.numpy-2.4-x86-64-v2"].fix or "")
    assert "SSE4.2 and POPCNT" in found["cpu.numpy-2.4-x86-64-v2"].message


def test_vm_with_a_generic_cpu_model_is_told_to_pass_the_host_cpu(tmp_path: Path) -> None:
    cpu = cpu_from("qemu-virtual-cpu64-rhel6-kvm-lscpu-prompt.txt", tmp=tmp_path)
    assert cpu.model == "QEMU Virtual CPU version (cpu64-rhel6)" and cpu.sse4_1 is False
    found = {f.id: f for f in cpu_findings(Profile(cpu=cpu))}
    assert "cpu.vm-cpu-model-hides-features" in found
    assert "--cpu host" in (found["cpu.vm-cpu-model-hides-features"].fix or "")
    assert "cpu.torch-sse4_1-floor" in found


def test_avx_without_avx2_is_only_informative(tmp_path: Path) -> None:
    cpu = cpu_from("core-i7-2600k-sandybridge-lscpu.txt", tmp=tmp_path)
    found = cpu_findings(Profile(cpu=cpu))
    assert [(f.id, f.severity) for f in found] == [("cpu.torch-avx-without-avx2-mkl", "info")]


def test_uname_m_wins_and_cpuinfo_flags_win_over_lscpu(tmp_path: Path) -> None:
    (tmp_path / "files" / "proc").mkdir(parents=True)
    (tmp_path / "files" / "proc" / "cpuinfo").write_text(
        fixture_text("real/cpuinfo/intel-i3-7100u-kabylake-cpuinfo.txt")
    )
    (tmp_path / "commands").mkdir()
    (tmp_path / "commands" / "lscpu.out").write_text(fixture_text("real/cpuinfo/core2-duo-e8400-lscpu.txt"))
    (tmp_path / "commands" / "uname-m.out").write_text("x86_64\n")
    cpu = probe_cpu(CaptureSource(tmp_path), [].append)
    assert cpu.avx2 is True  # from /proc/cpuinfo
    assert cpu.threads == 2  # topology from lscpu


def test_first_character_cut_and_quoted_paste_still_parse() -> None:
    text = fixture_text("real/cpuinfo/celeron-1037u-ivybridge-noavx-cpuinfo.txt")
    cut = "\n".join("> " + line[1:] for line in text.splitlines())
    parsed = parse_cpuinfo(cut)
    assert parsed.model == "Intel(R) Celeron(R) CPU 1037U @ 1.80GHz"
    assert parsed.flags is not None and "sse4_2" in parsed.flags and "avx" not in parsed.flags


def test_explicit_truncation_marker_makes_absent_flags_unknown() -> None:
    parsed = parse_cpuinfo("flags\t\t: fpu vme de pse tsc msr pae mce cx8 sse sse2 ssse3 ...\nbogomips\t: 5000\n")
    states, _ = flag_states(parsed.flags, parsed.flags_complete)
    assert parsed.flags_complete is False and states["avx"] is None and states["sse4_2"] is None


def test_damaged_flag_list_is_detected_not_believed() -> None:
    text = fixture_text("real/cpuinfo/celeron-1037u-ivybridge-noavx-cpuinfo.txt").replace("popcnt", "popc nt")
    parsed = parse_cpuinfo(text)
    states, problems = flag_states(parsed.flags, parsed.flags_complete)
    assert states["popcnt"] is None and any("popcnt" in p for p in problems)


def test_no_source_at_all_gives_unknowns_and_says_why() -> None:
    warnings: list[str] = []
    cpu = probe_cpu(DeniedSource(root="/nonexistent-root"), warnings.append)
    assert cpu.avx is None and cpu.flags is None and cpu.x86_64_level is None
    assert any("permission denied" in w and "grep" in w for w in warnings)
    assert cpu_findings(Profile(cpu=cpu)) == []


def test_doctor_json_contract_keys() -> None:
    data = json.loads(json.dumps(dump(CpuInfo())))
    for key in ("arch", "model", "flags", "sse4_2", "avx", "avx2", "fma", "avx512f", "x86_64_level"):
        assert key in data


FIXTURE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(CPUINFO.iterdir())]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parsers_never_crash_on_any_text(text: str) -> None:
    for parsed in (parse_cpuinfo(text), parse_lscpu(text)):
        states, _ = flag_states(parsed.flags, parsed.flags_complete)
        assert set(states) >= {"avx", "sse4_2"}
        level = x86_64_level(parsed.flags, parsed.flags_complete)
        assert level is None or 1 <= level <= 4


# lines of thousands of repeats of what the regexes look for: parsing stays linear (80 KB of "x:" took 20 s once)
@settings(max_examples=60, deadline=5000)
@given(
    st.sampled_from(["", "Flags: ", "flags\t\t: ", "Model name: ", "$ ", "user@host:~$ "]),
    st.sampled_from(["x:", "x@", ":", "a ", " ", "0", "$ ", "# "]) | st.text(min_size=1, max_size=4),
    st.integers(10_000, 80_000),
)
def test_parsers_stay_fast_on_long_lines(prefix: str, unit: str, size: int) -> None:
    line = prefix + unit * (size // len(unit))
    for text in (line, f"Architecture: x86_64\n{line}\nFlags: sse2 avx\n"):
        parse_cpuinfo(text)
        parse_lscpu(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FIXTURE_TEXTS), st.integers(0, 4000), st.integers(0, 4000), st.text(max_size=20))
def test_cut_and_spliced_real_outputs_never_crash_or_invent_flags(text: str, start: int, stop: int, junk: str) -> None:
    mangled = text[start:] if start < stop else text[:stop] + junk + text[stop:]
    for parsed in (parse_cpuinfo(mangled), parse_lscpu(mangled)):
        if parsed.flags is not None:
            states, _ = flag_states(parsed.flags, parsed.flags_complete)
            # a flag is never reported present unless the text says it
            for name, state in states.items():
                assert state is not True or name in mangled
