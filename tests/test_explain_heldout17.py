"""explain on the seventeenth held-out round of issue 10 (heldx17: 2025-2026 threads of local LLM and image tools:
ollama and a client of it, vLLM, ComfyUI desktop, an install script): the class rules that round led to, each held
to a real log and to a text just outside the rule (rows in logs/INDEX.yaml marked heldout, round heldx17)."""

from __future__ import annotations

from rigfit.explain.match import explain_text
from tests.explain_helpers import found, ids


def test_a_client_that_cannot_reach_ollama_is_told_to_start_the_server() -> None:
    first = found("ollama-server-unreachable--continue-unable-to-connect.txt")[0]
    assert first.id == "ollama-server-unreachable"
    assert "systemctl start ollama" in first.fix and "curl http://localhost:11434" in first.fix
    # the CLI's own words and a refused connection on ollama's port are the same class
    assert ids("Error: could not connect to ollama app, is it running?\n")[0] == "ollama-server-unreachable"
    refused = 'Error: Head "http://127.0.0.1:11434/": dial tcp 127.0.0.1:11434: connect: connection refused\n'
    assert ids(refused)[0] == "ollama-server-unreachable"
    # a refused connection on another port is not ollama's
    assert "ollama-server-unreachable" not in ids("dial tcp 127.0.0.1:7860: connect: connection refused\n")


def test_ollama_refusing_a_model_for_ram_names_both_sizes() -> None:
    first = found("ollama-model-needs-more-ram--continue-7.5-of-5.2-gib.txt")[0]
    assert first.id == "ollama-model-needs-more-ram"
    assert "7.5 GiB" in first.cause and "5.2 GiB" in first.cause and "not VRAM" in first.cause
    assert "smaller or more quantized model" in first.fix
    # a CUDA out-of-memory is the memory analyzer's, not this
    assert "ollama-model-needs-more-ram" not in ids("torch.OutOfMemoryError: CUDA out of memory.\n")


def test_ollama_serve_on_a_taken_port_says_the_server_already_runs() -> None:
    first = found("ollama-port-in-use--ollama-serve-linux-service.txt")[0]
    assert first.id == "ollama-port-in-use" and "sudo systemctl stop ollama" in first.fix
    windows = (
        "Error: listen tcp 127.0.0.1:11434: bind: Only one usage of each socket address (protocol/network "
        "address/port) is normally permitted.\n"
    )
    assert ids(windows)[0] == "ollama-port-in-use"
    assert "ollama-port-in-use" not in ids("Error: listen tcp 0.0.0.0:8080: bind: address already in use\n")


def test_vllm_built_from_source_on_windows_is_sent_to_wsl() -> None:
    for name in (
        "vllm-on-native-windows--pip-takes-sdist-0.7.2.txt",
        "vllm-on-native-windows--bdist-win-amd64-cut.txt",
    ):
        first = found(name)[0]
        assert first.id == "vllm-on-native-windows" and "WSL2" in first.fix, name
    assert "vLLM 0.7.2's source release" in found("vllm-on-native-windows--pip-takes-sdist-0.7.2.txt")[0].cause
    # the same source release on Linux is a normal (if slow) build, not this class
    linux = (
        "Collecting vllm\n  Downloading vllm-0.7.2.tar.gz (5.4 MB)\n"
        "Collecting numpy<2.0.0\n  Using cached numpy-1.26.4-cp310-cp310-manylinux_2_17_x86_64.whl (18.2 MB)\n"
    )
    assert "vllm-on-native-windows" not in ids(linux)


def test_a_glibc_program_on_alpine_is_the_musl_class() -> None:
    first = found("glibc-binary-on-musl--ollama-alpine-segfault.txt")[0]
    assert first.id == "glibc-binary-on-musl" and "apk search" in first.fix
    relocating = "Error relocating /usr/local/bin/ollama: __vsnprintf_chk: symbol not found\n(on Alpine 3.20)\n"
    assert ids(relocating)[0] == "glibc-binary-on-musl"
    # a segmentation fault without Alpine/musl in the text is not this class
    assert "glibc-binary-on-musl" not in ids("Segmentation fault (core dumped) python main.py\n")


def test_a_download_cut_into_a_piped_archive_is_an_interrupted_download() -> None:
    first = found("download-interrupted--ollama-install-sh-curl-92-gzip-eof.txt")[0]
    assert first.id == "download-interrupted" and first.facts["curl_error"] == "92"
    assert "gzip/tar" in first.cause and "-C -" in first.fix and "git" not in first.fix
    # git's own transfer cut keeps its git wording
    git = (
        "Cloning into 'stable-diffusion-webui'...\n"
        "error: RPC failed; curl 92 HTTP/2 stream 5 was not closed cleanly: CANCEL (err 8)\n"
        "fatal: early EOF\n"
    )
    assert explain_text(git).explanations[0].id == "git-transfer-interrupted"
    # a truncated archive alone (no download error) names nothing
    assert "download-interrupted" not in ids("gzip: stdin: unexpected end of file\ntar: Child returned status 1\n")


def test_an_installer_that_cannot_reach_github_names_the_host() -> None:
    first = found("network-unreachable--comfyui-desktop-github-socket-hang-up.txt")[0]
    assert first.id == "network-unreachable" and first.facts["host"] == "github.com"
    npm = (
        "npm ERR! request to https://registry.npmjs.org/electron failed, reason: getaddrinfo ENOTFOUND "
        "registry.npmjs.org\n"
    )
    assert explain_text(npm).explanations[0].facts.get("host") == "registry.npmjs.org"


def test_the_rounds_unknowns_still_match_nothing() -> None:
    for name in (
        "ollama-runner-ggml-assert-0xc0000409",
        "vllm-unsupported-block-size-bare-line",
        "comfyui-tripo-node-prompt-is-required",
        "invokeai-graphexecutionstate-validation-error",
        "kohya-gui-train-network-exit-1-wrapper-line",
        "comfyui-desktop-start-manager-frontend-restore",
    ):
        assert found(f"unrelated/{name}.txt") == [], name


def test_a_custom_nodes_undefined_name_points_at_its_skipped_import() -> None:
    first = found("custom-node-name-undefined--wanvideowrapper-wan22-comfyui-0.3.14.txt")[0]
    assert first.id == "custom-node-name-undefined"
    assert first.facts == {"name": "Wan22", "custom_node": "ComfyUI-WanVideoWrapper", "comfyui_version": "0.3.14"}
    assert "this ComfyUI is 0.3.14" in first.cause and first.fix.startswith("Update ComfyUI itself")
    load = found("custom-node-name-undefined--comfyroll-load-time.txt")[0]
    assert load.facts["custom_node"] == "ComfyUI_Comfyroll_CustomNodes" and "could not load the node" in load.cause
    # a NameError in a script of one's own, or a node listed only in the import times, is not this class
    script = (
        "Traceback (most recent call last):\n  File \"/home/u/run.py\", line 3\nNameError: name 'main' is not defined\n"
    )
    assert "custom-node-name-undefined" not in ids(script)
    listed = (
        "NameError: name 'x' is not defined\n   0.1 seconds (IMPORT FAILED): /root/ComfyUI/custom_nodes/some-node\n"
    )
    assert "custom-node-name-undefined" not in ids(listed)
