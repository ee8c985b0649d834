"""install's free-space check: the sizes it counts (measured from the real wheels and the KB), when it refuses, when
it only warns, and the installers' own words on a full disk turned into the fix."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from rigfit.env.disk import GB, DiskError, DiskNeed, check_disk, install_need, wheel_contents
from rigfit.env.installer import installer_hint
from rigfit.env.wheels import parse_wheel
from tests.conftest_forge import WHEELS, find_wheel

FIXTURES = Path(__file__).parent / "fixtures" / "install"


def _wheels() -> list[Path]:
    return [find_wheel(name, version) for name, version in WHEELS]


def test_a_wheel_is_measured_unpacked_and_its_cuda_libraries_seen() -> None:
    torch, torchvision = _wheels()
    size, cuda = wheel_contents(torch)
    with zipfile.ZipFile(torch) as archive:
        assert size == sum(i.file_size for i in archive.infolist())
    assert size > torch.stat().st_size  # unpacked, not the compressed file
    assert cuda  # torch 2.14.1 from PyPI requires NVIDIA's library wheels
    assert not wheel_contents(torchvision)[1]


def test_own_wheels_are_copied_and_the_rest_is_linked_from_the_cache() -> None:
    wheels = [parse_wheel(str(p)) for p in _wheels()]
    need = install_need("forge", wheels, "cpu", torch_installed=False)
    assert need.copied == sum(wheel_contents(w.path)[0] for w in wheels)  # the user's wheels, exactly
    assert 4 * GB < need.linked < 6 * GB  # torch's CUDA libraries (4.1 GB measured) + Forge's requirements (1.2 GB)
    assert not need.unmeasured
    kept = install_need("forge", [], "cu126", torch_installed=True)  # torch in place: only the requirements
    assert kept.copied == 0 and 1 * GB < kept.linked < 2 * GB


def test_the_plans_torch_counts_by_its_kind() -> None:
    cpu = install_need("invokeai", [], "cpu", torch_installed=False)
    rocm = install_need("invokeai", [], "rocm6.4", torch_installed=False)
    assert cpu.copied < 1 * GB < rocm.copied
    assert cpu.linked == rocm.linked  # no CUDA libraries for either: only InvokeAI's requirements
    assert install_need("comfyui", [], "cpu", torch_installed=False).unmeasured == ["comfyui's requirements"]


def test_too_little_for_the_copied_files_refuses_naming_place_sizes_and_fix(tmp_path: Path) -> None:
    need = DiskNeed()
    need.add("torch 9.9", 10**18, linked=False)
    with pytest.raises(DiskError, match=r"writes at least .* GB on .*which has .* GB free \(torch 9\.9 .*free space"):
        check_disk(tmp_path / "not-yet" / "env", need, "installing forge", print)


def test_too_little_for_a_cold_cache_only_warns(tmp_path: Path) -> None:
    need = DiskNeed()
    need.add("forge's requirements", 10**18, linked=True)
    said: list[str] = []
    check_disk(tmp_path, need, "installing forge", said.append)
    assert len(said) == 1 and "rerun the same command" in said[0] and str(tmp_path) in said[0]
    small = DiskNeed()
    small.add("forge's requirements", 1000, linked=True)
    said.clear()
    check_disk(tmp_path, small, "installing forge", said.append)
    assert said == []


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("enospc--*.txt")))
def test_a_full_disk_mid_install_is_named_with_its_fix(name: str) -> None:
    hint = installer_hint((FIXTURES / name).read_text(encoding="utf-8"))
    assert hint is not None and "disk filled up" in hint and "rerun the same command" in hint
    if "uv" in name:
        assert "/tmp/tiny/uvc/" in hint  # uv names the file it was writing: the cache's disk filled


def test_an_ordinary_failure_gets_no_disk_hint() -> None:
    assert installer_hint("error: No solution found when resolving dependencies") is None
