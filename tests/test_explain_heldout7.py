"""explain on the seventh held-out round of issue 10 (heldx7, mixed classes from Stability Matrix, SwarmUI, the
Invoke launcher, Easy Diffusion, a Raspberry Pi, diffusers): the class rules and knowledge that round led to, each held
to a real log and to a text just outside the rule (rows in logs/INDEX.yaml marked heldout, round heldx7)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_git_clone_cut_off_mid_transfer_is_the_network_not_the_repository() -> None:
    first = found("git-transfer-cut--stabilitymatrix-peer.txt")[0]
    assert first.id == "git-transfer-interrupted" and first.facts["host"] == "github.com"
    assert "--depth 1 https://github.com/AUTOMATIC1111/stable-diffusion-webui" in first.fix
    assert "HTTP/1.1" not in first.fix  # nothing in that log says HTTP/2
    linux = found("git-transfer-cut--stabilitymatrix-linux-curl92.txt")[0]
    assert linux.id == "git-transfer-interrupted" and linux.facts["curl_error"] == "92"
    assert "http.version HTTP/1.1" in linux.fix
    # the same class in other words: curl 18, git's own "early EOF" and "hung up" lines
    curl18 = (
        "Cloning into 'ComfyUI'...\nerror: RPC failed; curl 18 transfer closed with outstanding read data remaining\n"
        "fatal: early EOF"
    )
    assert ids(curl18)[:1] == ["git-transfer-interrupted"]
    assert ids("fatal: the remote end hung up unexpectedly\nfatal: early EOF")[:1] == ["git-transfer-interrupted"]
    # a clone that never connected is not a cut transfer, and a clone that finished is nothing
    refused = "fatal: unable to access 'https://github.com/x/y/': Failed to connect to github.com port 443"
    assert ids(refused)[:1] == ["network-unreachable"]
    assert ids("Cloning into 'ComfyUI'...\nReceiving objects: 100% (4100/4100), done.") == []


def test_no_cuda_gpus_with_a_cuda_torch_points_at_visibility_not_the_driver_install() -> None:
    first = found("no-cuda-gpus--swarmui-comfy-backend.txt")[0]
    assert first.id == "cuda-torch-sees-no-device"
    assert "CUDA_VISIBLE_DEVICES" in first.fix and "nvidia-smi" in first.fix
    # torch's other no-GPU messages keep their own answers
    assert ids("RuntimeError: Found no NVIDIA driver on your system.")[:1] == ["no-nvidia-driver"]
    assert "cuda-torch-sees-no-device" not in ids("RuntimeError: No HIP GPUs are available")


def test_uv_finding_only_older_torch_on_a_cuda_index_names_the_variant_that_has_it() -> None:
    first = found("uv-variant--invoke-launcher-cu124-torch27.txt")[0]
    assert first.id == "uv-resolver-conflict" and first.facts["variant"] == "cu124"
    assert "whl/cu126" in first.fix and "cu118, cu126, cu128" in first.cause
    # a variant that has the release needed is an ordinary conflict: no variant advice
    ok_variant = (
        "  × No solution found when resolving dependencies:\n"
        "  ╰─▶ Because only torch<=2.6.0+cu126 is available and mypkg==1.0 depends on torch>=2.6.0,<2.6.0, we can\n"
        "      conclude that mypkg==1.0 cannot be used."
    )
    finding = explain_text(ok_variant).explanations[0]
    assert finding.id == "uv-resolver-conflict" and "variant" not in finding.facts


def test_sigill_on_arm_names_the_library_and_instruction_and_drops_the_x86_advice() -> None:
    first = found("sigill-arm--raspberrypi4-torch240-gdb.txt")[0]
    assert first.id == "sigill-native-library" and first.facts["instruction"] == "ldaddal"
    assert "LSE atomics" in first.cause and "AVX" not in first.fix and "atomics /proc/cpuinfo" in first.fix
    assert ids(open_log("sigill-arm--raspberrypi4-torch240-gdb.txt"))[0] == "sigill-native-library"
    # an x86 gdb frame keeps the x86 reading
    x86 = (
        'Thread 1 "python" received signal SIGILL, Illegal instruction.\n'
        "0x00007ffff0772fcc in THFloatVector_normal_fill_AVX2 ()\n"
        "   from /opt/conda/lib/python3.7/site-packages/torch/lib/libtorch_cpu.so"
    )
    x86_ids = ids(x86)
    assert x86_ids[0] == "sigill-cpu-features" and "sigill-native-library" in x86_ids


def test_a_torch_api_newer_than_the_installed_torch_names_the_release_and_the_importer() -> None:
    first = found("name-added--diffusers-custom-op-torch231.txt")[0]
    assert first.id == "python-name-version-mismatch" and first.facts["imported_by"] == "diffusers"
    assert "torch 2.4 or newer" in first.cause and "upgrade torch to 2.4" in first.fix
    # the same name used by a custom node's own file: no lazy wrapper, no importer named from it
    plain = explain_text("AttributeError: module 'torch.library' has no attribute 'custom_op'").explanations[0]
    assert plain.facts["name"] == "custom_op" and "imported_by" not in plain.facts


def open_log(name: str) -> str:
    from tests.explain_helpers import LOGS

    return (LOGS / name).read_text(encoding="utf-8")
