"""Hand-built profiles of the machines the planner is tested on (facts from the seeds and fixtures EXPECTED.yaml)."""

from __future__ import annotations

from rigfit.probe.profile import CpuInfo, GpuInfo, MemoryInfo, OsInfo, PcieLink, Profile, PythonInfo
from rigfit.records import replace

GIB = 2**30

WESTMERE = CpuInfo(
    arch="x86_64",
    vendor="GenuineIntel",
    model="Intel(R) Xeon(R) CPU X5680 @ 3.33GHz",
    sockets=2,
    cores=12,
    threads=24,
    sse4_1=True,
    sse4_2=True,
    popcnt=True,
    avx=False,
    avx2=False,
    fma=False,
    avx512f=False,
    avx512_bf16=False,
    amx_bf16=False,
    x86_64_level=2,
)
ZEN4 = CpuInfo(
    arch="x86_64",
    vendor="AuthenticAMD",
    model="AMD Ryzen 7 7700X",
    sse4_1=True,
    sse4_2=True,
    avx=True,
    avx2=True,
    fma=True,
    avx512f=True,
    avx512_bf16=True,
    amx_bf16=False,
    x86_64_level=4,
)
HASWELL = CpuInfo(
    arch="x86_64",
    vendor="GenuineIntel",
    model="Intel(R) Core(TM) i7-7700HQ",
    sse4_1=True,
    sse4_2=True,
    avx=True,
    avx2=True,
    fma=True,
    avx512f=False,
    avx512_bf16=False,
    amx_bf16=False,
    x86_64_level=3,
)


def macpro() -> Profile:
    return Profile(
        cpu=WESTMERE,
        memory=MemoryInfo(total_bytes=128 * GIB),
        gpus=[
            GpuInfo(
                vendor="amd",
                name="AMD Radeon RX 6600 XT",
                pci_id="1002:73ff",
                bdf="0000:03:00.0",
                gfx="gfx1032",
                vram_bytes=8 * GIB,
                integrated=False,
                driver="amdgpu",
                kfd_node=1,
                pcie=PcieLink(speed_gts=5.0, width=16, max_speed_gts=16.0, max_width=16),
            )
        ],
        python=PythonInfo(version="3.12.3", externally_managed=True, in_venv=False),
        os=OsInfo(distro_id="ubuntu", distro_version="24.04"),
        kfd_access="ok",
    )


def rx5500xt() -> Profile:
    return Profile(
        cpu=HASWELL,
        memory=MemoryInfo(total_bytes=16 * GIB),
        gpus=[
            GpuInfo(
                vendor="amd",
                name="AMD Radeon RX 5500 XT",
                pci_id="1002:7340",
                bdf="0000:0a:00.0",
                gfx="gfx1012",
                vram_bytes=8 * GIB,
                integrated=False,
                driver="amdgpu",
                kfd_node=1,
            )
        ],
        python=PythonInfo(version="3.9.2"),
        os=OsInfo(distro_id="debian", distro_version="11"),
        kfd_access="ok",
    )


def x58_rx460() -> Profile:
    cpu = replace(WESTMERE, model="Intel(R) Xeon(R) CPU X5670 @ 2.93GHz")
    return Profile(
        cpu=cpu,
        memory=MemoryInfo(total_bytes=12 * GIB),
        gpus=[
            GpuInfo(
                vendor="amd",
                name="Radeon RX 460",
                pci_id="1002:67ef",
                bdf="0000:08:00.0",
                gfx="gfx803",
                vram_bytes=4 * GIB,
                integrated=False,
                driver="amdgpu",
                atomics_rejected=True,
                pcie=PcieLink(speed_gts=5.0, width=8, max_speed_gts=8.0, max_width=8),
            )
        ],
        pcie_atomics_rejected=["1002:67ef"],
        python=PythonInfo(version="3.10.12"),
        os=OsInfo(distro_id="ubuntu", distro_version="22.04"),
        kfd_access="ok",
    )


def runpod(with_gpu: bool = True) -> Profile:
    gpus = (
        [
            GpuInfo(
                vendor="nvidia",
                name="NVIDIA A40",
                compute_capability="8.6",
                vram_bytes=48 * GIB,
                integrated=False,
                driver="nvidia",
            )
        ]
        if with_gpu
        else []
    )
    return Profile(
        cpu=ZEN4,
        memory=MemoryInfo(total_bytes=64 * GIB),
        gpus=gpus,
        nvidia_driver="530.30.02" if with_gpu else None,
        cuda_driver_version="12.1" if with_gpu else None,
        python=PythonInfo(version="3.10.12", container="docker"),
    )


def epyc_cpu_only() -> Profile:
    cpu = replace(ZEN4, model="AMD EPYC 9354")
    return Profile(cpu=cpu, memory=MemoryInfo(total_bytes=24 * GIB), python=PythonInfo(version="3.11.7"))


def gtx950m() -> Profile:
    return Profile(
        cpu=HASWELL,
        memory=MemoryInfo(total_bytes=8 * GIB),
        gpus=[
            GpuInfo(
                vendor="nvidia",
                name="NVIDIA GeForce GTX 950M",
                compute_capability="5.0",
                vram_bytes=2 * GIB,
                integrated=False,
                driver="nvidia",
            )
        ],
        nvidia_driver="535.183.01",
        cuda_driver_version="12.2",
        python=PythonInfo(version="3.10.12"),
    )


def rtx5090(driver: str = "595.71.05", cuda: str = "13.2") -> Profile:
    return Profile(
        cpu=ZEN4,
        memory=MemoryInfo(total_bytes=64 * GIB),
        gpus=[
            GpuInfo(
                vendor="nvidia",
                name="NVIDIA GeForce RTX 5090",
                compute_capability="12.0",
                vram_bytes=34190917632,
                integrated=False,
                driver="nvidia",
                bdf="0000:c5:00.0",
            )
        ],
        nvidia_driver=driver,
        cuda_driver_version=cuda,
        python=PythonInfo(version="3.12.3"),
    )


def xtx_raphael() -> Profile:
    return Profile(
        cpu=ZEN4,
        memory=MemoryInfo(total_bytes=32 * GIB),
        gpus=[
            GpuInfo(
                vendor="amd",
                name="AMD Radeon Graphics (Raphael)",
                pci_id="1002:164e",
                bdf="0000:6e:00.0",
                gfx="gfx1036",
                vram_bytes=512 * 2**20,
                integrated=True,
                driver="amdgpu",
                kfd_node=2,
            ),
            GpuInfo(
                vendor="amd",
                name="AMD Radeon RX 7900 XTX",
                pci_id="1002:744c",
                bdf="0000:03:00.0",
                gfx="gfx1100",
                vram_bytes=24 * GIB,
                integrated=False,
                driver="amdgpu",
                kfd_node=1,
            ),
        ],
        python=PythonInfo(version="3.12.3"),
        kfd_access="ok",
    )


def apu_only() -> Profile:
    return Profile(
        cpu=replace(ZEN4, model="AMD Ryzen 5 5500U", avx512f=False, avx512_bf16=False, x86_64_level=3),
        memory=MemoryInfo(total_bytes=16 * GIB),
        gpus=[
            GpuInfo(
                vendor="amd",
                name="AMD Radeon Graphics (Lucienne)",
                pci_id="1002:164c",
                bdf="0000:03:00.0",
                gfx="gfx90c",
                vram_bytes=512 * 2**20,
                gtt_bytes=8 * GIB,
                integrated=True,
                driver="amdgpu",
                kfd_node=1,
            )
        ],
        python=PythonInfo(version="3.12.3"),
        kfd_access="ok",
    )
