"""One rule for the thread count of a pasted /proc/cpuinfo, x86 and ARM alike: the processors shown are the count
only where the paste shows the output's end (the ARM boards' trailer, a shell prompt after the output, or siblings
that count the package's CPUs); otherwise the paste may stop after any whole block or `grep "model name"` line, and
doctor says "at least N". Real pastes (tests/fixtures/SOURCES.md); the prompt cases cut or extend them as noted."""

from __future__ import annotations

from rigfit.probe.cpu_text import parse_cpuinfo
from rigfit.probe.profile import CpuInfo
from rigfit.probe.report import _cpu_lines
from tests.doctor_helpers import read

JETSON = read("cpuinfo-jetson-nano-no-model-name--a57.txt")  # 4 whole arm64 blocks, nothing after them
NEOVERSE = read("cpuinfo-aarch64-three-processors-no-model-name--neoverse-n1-d0c.txt")  # 3 blocks in a fence
RPI4 = read("cpuinfo-rpi4-aarch64-no-model-name.txt")  # 4 blocks, the Revision/Serial/Model trailer, a prompt
I3 = read("cpuinfo-grep-and-block-cut--i3-m370-no-avx.txt")  # `grep "model name"` x4, a prompt, a cut block


def _counts(text: str) -> tuple[int | None, int | None]:
    cpu = parse_cpuinfo(text)
    return cpu.threads, cpu.threads_at_least


def test_arm_whole_blocks_without_an_end_are_at_least() -> None:
    assert _counts(JETSON) == (None, 4)
    assert _counts(NEOVERSE) == (None, 3)


def test_arm_trailer_or_prompt_shows_the_end() -> None:
    assert _counts(RPI4) == (4, None)
    assert _counts(JETSON + "\nuser@jetson:~$ \n") == (4, None)  # the paste went on to the next prompt


def test_x86_grep_lines_follow_the_same_rule() -> None:
    grep_only = "\n".join(I3.splitlines()[:5])  # the command and its 4 "model name" lines, the paste cut there
    assert _counts(grep_only) == (None, 4)
    assert _counts(grep_only + "\n$ \n") == (4, None)  # the prompt after them: grep's whole output


def test_x86_blocks_with_siblings_count_the_package() -> None:
    assert _counts(I3) == (4, None)  # "siblings: 4" in the block


def test_a_block_cut_before_a_prompt_is_no_end() -> None:
    blocks = JETSON.split("\n\n")
    cut = "\n\n".join(blocks[:3]) + "\n\n" + "\n".join(blocks[3].splitlines()[:2]) + "\n$ \n"
    assert _counts(cut) == (None, 4)


def test_doctor_says_at_least() -> None:
    line = _cpu_lines(CpuInfo(arch="aarch64", threads_at_least=4))[1]
    assert line == "? socket(s), ? cores, at least 4 threads"
