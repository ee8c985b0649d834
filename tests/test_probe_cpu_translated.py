"""lscpu pasted under a non-English locale (real outputs, tests/fixtures/real/cpuinfo/*-lscpu-{de,fr,zh-cn}*.txt):
labels translated through rigfit/kb/lscpu_labels.yaml; what the KB does not list stays unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigfit.kb.lscpu_labels import lscpu_languages, translated_lscpu_labels
from rigfit.probe.cpu import probe_cpu
from rigfit.probe.cpu_text import parse_lscpu, x86_64_level
from rigfit.probe.source import CaptureSource, CommandSpec, LiveSource
from tests.conftest import fixture_text

# fixture -> (vendor, model, sockets, cores, threads, x86-64 level); None = the paste does not say
CASES = {
    "amd-ryzen5-pro-4650u-lscpu-de.txt": ("amd", "AMD Ryzen 5 PRO 4650U with Radeon Graphics", 1, 6, 12, 3),
    "amd-athlon-4050e-lscpu-de-wrapped.txt": ("amd", "AMD Athlon(tm) Dual Core Processor 4050e", 1, 2, 2, 1),
    "intel-i7-8550u-lscpu-zh-cn.txt": ("intel", "Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz", 1, 4, 8, 3),
    "amd-ryzen7-7730u-lscpu-fr.txt": ("amd", "AMD Ryzen 7 7730U with Radeon Graphics", 1, 8, 16, None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_translated_lscpu_is_read(name: str) -> None:
    vendor, model, sockets, cores, threads, level = CASES[name]
    parsed = parse_lscpu(fixture_text(f"real/cpuinfo/{name}"))
    assert parsed.arch == "x86_64"
    assert (parsed.vendor, parsed.model, parsed.sockets, parsed.cores, parsed.threads) == (
        vendor,
        model,
        sockets,
        cores,
        threads,
    )
    assert x86_64_level(parsed.flags, parsed.flags_complete) == level


def test_wrapped_translated_flags_are_joined_where_the_terminal_cut_a_word() -> None:
    """German `lscpu` wrapped at 80 columns ("sep m" / "trr", "extd_ap" / "icid"), trailing spaces kept."""
    flags = parse_lscpu(fixture_text("real/cpuinfo/amd-athlon-4050e-lscpu-de-wrapped.txt")).flags or []
    assert {"mtrr", "sse", "extd_apicid", "rdtscp", "lm", "lahf_lm", "cr8_legacy"} <= set(flags)
    assert not any(f in flags for f in ("m", "trr", "s", "se", "extd_ap", "icid", "sse4_2", "avx"))


def test_wrapped_flags_that_lost_trailing_spaces_keep_words_apart() -> None:
    """The Chinese paste lost the trailing spaces: a line that ended between two words is one column short of the
    terminal width, so "tsc_adjust" / "bmi1" are two flags while "3dnowpref" / "etch" is one."""
    flags = parse_lscpu(fixture_text("real/cpuinfo/intel-i7-8550u-lscpu-zh-cn.txt")).flags or []
    assert {"tsc_adjust", "bmi1", "xtopology", "nonstop_tsc", "3dnowprefetch", "dtherm", "avx2", "fma"} <= set(flags)
    assert "tsc_adjustbmi1" not in flags and "xtopologynonstop_tsc" not in flags


def test_labels_outside_the_kb_stay_unknown() -> None:
    """French has no flags line in the paste: the CPU flags are unknown, not absent; the Chinese "型号" (Model
    number) is not taken for the model name."""
    fr = parse_lscpu(fixture_text("real/cpuinfo/amd-ryzen7-7730u-lscpu-fr.txt"))
    assert fr.flags is None
    labels = translated_lscpu_labels()
    assert "型号" not in labels and "modell" not in labels and "modèle" not in labels
    assert all(lang.sources for lang in lscpu_languages())


def test_translated_lscpu_in_a_capture_reaches_the_profile(tmp_path: Path) -> None:
    (tmp_path / "commands").mkdir()
    (tmp_path / "commands" / "lscpu.out").write_text(fixture_text("real/cpuinfo/amd-ryzen5-pro-4650u-lscpu-de.txt"))
    cpu = probe_cpu(CaptureSource(tmp_path), lambda _msg: None)
    assert cpu.model == "AMD Ryzen 5 PRO 4650U with Radeon Graphics"
    assert (cpu.cores, cpu.threads, cpu.avx2, cpu.x86_64_level) == (6, 12, True, 3)


def test_rigfit_runs_commands_in_the_c_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live probe never sees translated labels: every command runs with LC_ALL=C."""
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    result = LiveSource().run(CommandSpec("locale-check", ("sh", "-c", "echo $LC_ALL")))
    assert (result.output or "").strip() == "C"
