"""`rigfit capture` redacts what identifies a person, on real tool outputs, without losing the facts doctor needs."""

from __future__ import annotations

import re

import pytest

from rigfit.probe.capture import Redactor
from rigfit.probe.gpu.kernel_log import parse_kernel_log
from rigfit.probe.gpu.lspci import parse_lspci
from rigfit.probe.gpu.nvidia_smi import parse_nvidia_smi
from rigfit.probe.gpu.rocminfo import parse_rocminfo
from tests.conftest import FIXTURES, fixture_text

UUID = re.compile(r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.mark.parametrize(
    "relpath", ["real/nvidia-smi/titanv-rtx5880-list.txt", "real/nvidia-smi/geforce920mx-query-q-driver440.txt"]
)
def test_gpu_uuids_are_redacted_and_the_gpus_still_parse(relpath: str) -> None:
    text = fixture_text(relpath)
    assert UUID.search(text)
    redact = Redactor(hostname=None, user=None)
    redacted = redact(text)
    assert not UUID.search(redacted) and redact.applied == {"serial numbers and unique ids"}
    before, after = parse_nvidia_smi(text), parse_nvidia_smi(redacted)
    assert [g.name for g in after.gpus] == [g.name for g in before.gpus] and after.gpus
    assert after.driver_version == before.driver_version


def test_an_unknown_serial_stays_unknown() -> None:
    redacted = Redactor(None, None)(fixture_text("real/nvidia-smi/geforce920mx-query-q-driver440.txt"))
    assert re.search(r"Serial Number\s+: N/A", redacted)


def test_pci_addresses_ids_and_versions_survive_redaction() -> None:
    machines = FIXTURES / "machines" / "x5670-rx460-gfx803-x58" / "commands"
    for name, parse in (("lspci.out", parse_lspci), ("rocminfo.out", parse_rocminfo)):
        text = (machines / name).read_text()
        assert parse(Redactor("host", "someone")(text)) == parse(text)


def test_host_and_user_names_are_replaced_as_whole_words() -> None:
    redact = Redactor(hostname="gpubox", user="marie")
    line = "Linux gpubox 6.8.0-45-generic #45-Ubuntu SMP x86_64; /home/marie/sd; gpuboxes"
    assert redact(line) == "Linux REDACTED 6.8.0-45-generic #45-Ubuntu SMP x86_64; /home/REDACTED/sd; gpuboxes"


def test_the_kernel_command_line_is_redacted_from_the_kernel_log() -> None:
    text = (FIXTURES / "machines" / "this-machine-cpu-only" / "commands" / "dmesg.out").read_text()
    redact = Redactor(None, None)
    redacted = redact(text)
    assert "0.0.0.0:2024" in text and "0.0.0.0:2024" not in redacted and "console=ttyS0" not in redacted
    assert "[    0.000000] Command line: REDACTED" in redacted and "Kernel command line: REDACTED" in redacted
    assert "kernel command line" in redact.applied
    assert parse_kernel_log(redacted) == parse_kernel_log(text)
    assert len(redacted.splitlines()) == len(text.splitlines())
