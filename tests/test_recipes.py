"""rigfit docker / k8s: every backend x UI bundle passes the real validators (hadolint, the Compose Specification
schema, shellcheck, kubernetes-validate), keeps the conventions (non-root, numeric gids, no secrets, localhost bind,
health checks), and the seed machines get the files their owners wrote by hand, right.

The validators start slowly: each runs once over every generated file (session fixtures), not once per file.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rigfit.cli import app
from rigfit.plan.model import UIS, PlanOptions
from rigfit.probe.gather import probe_machine
from rigfit.probe.profile import Profile
from rigfit.probe.source import CaptureSource
from rigfit.recipes.bundle import write_bundle
from rigfit.recipes.k8s import write_manifests
from rigfit.recipes.target import RecipeError, make_target
from tests.cli_runner import CliRunner
from tests.conftest import FIXTURES

BIN = Path(sys.executable).parent
MACHINES = FIXTURES / "machines"
# a machine whose plan is each backend (captures of real machines)
BACKEND_MACHINES = {"cpu": "this-machine-cpu-only", "cuda": "rtx5090-desktop", "rocm": "rx6800xt-r7-7700x-raphael-igpu"}
SECRETS = {"UI_AUTH": "alice:sentinel-ui-secret", "JUPYTER_TOKEN": "sentinel-jupyter", "PUBLIC_KEY": "ssh-ed25519 SENT"}


def profile_of(machine: str | Path) -> Profile:
    path = machine if isinstance(machine, Path) else MACHINES / machine
    return probe_machine(CaptureSource(path), torch_check=False)


def _bundle(out: Path, machine: str, ui: str, **kw: object) -> Path:
    extras = kw.pop("extras", [])
    target = make_target(profile_of(machine), PlanOptions(ui=ui, extras=extras), **kw)  # type: ignore[arg-type]
    write_bundle(target, out)
    return out


@pytest.fixture(scope="session")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> bundle dir: every backend x UI, plus --listen, --gpus all and --pod variants."""
    root = tmp_path_factory.mktemp("bundles")
    mp = pytest.MonkeyPatch()
    for name, value in SECRETS.items():  # secrets in the environment must never reach a generated file
        mp.setenv(name, value)
    found = {
        f"{backend}-{ui}": _bundle(root / f"{backend}-{ui}", machine, ui, backend=backend)
        for backend, machine in BACKEND_MACHINES.items()
        for ui in UIS
    }
    found["cuda-forge-listen"] = _bundle(root / "listen", "rtx5090-desktop", "forge", listen=True)
    found["rocm-a1111-gpus"] = _bundle(root / "gpus", "rx6800xt-r7-7700x-raphael-igpu", "a1111", gpus="all")
    found["cuda-a1111-pod"] = _bundle(root / "pod-a1111", "rtx5090-desktop", "a1111", pod=True)
    found["seed003-pod"] = _bundle(
        root / "seed003", "runpod-pytorch3d-cuda121", "comfyui", backend="cuda", pod=True, extras=["pytorch3d"]
    )
    found["seed002"] = _bundle(root / "seed002", "rx5500xt-debian11-a1111-docker", "a1111")
    found["seed004"] = _bundle(root / "seed004", "x5670-rx460-gfx803-x58", "a1111")
    mp.undo()
    return found


def compose_of(bundle: Path) -> dict:
    return yaml.safe_load((bundle / "compose.yaml").read_text())


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


# --- the real validators, one run each over every bundle -------------------------------------------------------


def test_every_dockerfile_passes_hadolint_without_error(bundles: dict[str, Path]) -> None:
    files = [str(b / "Dockerfile") for b in bundles.values()]
    result = _run([str(BIN / "hadolint"), "--no-color", "--failure-threshold", "error", *files])
    assert result.returncode == 0, result.stdout + result.stderr
    assert " error:" not in result.stdout.lower() and "DL3066" not in result.stdout


def test_every_compose_file_validates_against_the_compose_specification(bundles: dict[str, Path]) -> None:
    files = [str(b / "compose.yaml") for b in bundles.values()]
    result = _run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", *files])
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_shell_script_passes_shellcheck(bundles: dict[str, Path]) -> None:
    scripts = [str(p) for b in bundles.values() for p in sorted(b.glob("*.sh"))]
    assert len(scripts) >= len(bundles)
    result = _run([str(BIN / "shellcheck"), *scripts])
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_python_compiles(bundles: dict[str, Path]) -> None:
    for bundle in bundles.values():
        for path in bundle.glob("*.py"):
            compile(path.read_text(), str(path), "exec")


@pytest.fixture(scope="session")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("k8s")
    found = {}
    for ui in UIS:
        out = root / ui
        write_manifests(
            profile_of("rx5500xt-debian11-a1111-docker"), PlanOptions(ui=ui), ["amd", "nvidia"], 2, None, out
        )
        found[ui] = out
    return found


def test_k8s_manifests_validate_for_a_current_kubernetes(manifests: dict[str, Path]) -> None:
    files = [str(p) for d in manifests.values() for p in sorted(d.glob("*.yaml"))]
    result = _run([str(BIN / "kubernetes-validate"), "--strict", "-k", "1.37.0", *files])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == sum(len(list(yaml.safe_load_all(Path(f).read_text()))) for f in files)


# --- conventions -----------------------------------------------------------------------------------------------


def test_the_ui_never_runs_as_root(bundles: dict[str, Path]) -> None:
    for name, bundle in bundles.items():
        users = re.findall(r"^USER (\S+)", (bundle / "Dockerfile").read_text(), re.M)
        assert users and users[-1] == "1000:1000", name


def test_no_version_key_and_a_healthcheck_on_every_service(bundles: dict[str, Path]) -> None:
    for name, bundle in bundles.items():
        doc = compose_of(bundle)
        assert "version" not in doc, name
        for service in doc["services"].values():
            assert service["healthcheck"]["test"][-1].endswith("healthcheck.py"), name
        assert "HEALTHCHECK" in (bundle / "Dockerfile").read_text()


def test_health_endpoint_of_each_ui(bundles: dict[str, Path]) -> None:
    expected = {"forge": "/internal/ping", "a1111": "/internal/ping", "comfyui": "/system_stats"}
    for ui, path in expected.items():
        assert f'{path}"' in (bundles[f"cpu-{ui}"] / "healthcheck.py").read_text()


def test_port_on_localhost_unless_listen(bundles: dict[str, Path]) -> None:
    for name, bundle in bundles.items():
        ports = [p for s in compose_of(bundle)["services"].values() for p in s.get("ports", [])]
        ui_ports = [p for p in ports if not p.startswith(("8888", "2222"))]
        if "listen" in name or "pod" in name:
            continue
        assert ui_ports and all(p.startswith("127.0.0.1:") for p in ui_ports), (name, ports)
    listen = compose_of(bundles["cuda-forge-listen"])
    service = listen["services"]["forge"]
    assert service["ports"] == ["7860:7860"] and service["environment"]["UI_LISTEN"] == "1"
    # the login: a reference to .env, which compose refuses to start without; start.sh moves it into a 0600 file
    assert service["environment"]["UI_AUTH"].startswith("${UI_AUTH:?")
    start = (bundles["cuda-forge-listen"] / "start.sh").read_text()
    assert "--gradio-auth-path" in start and "umask 077" in start and "unset UI_AUTH" in start


def test_no_secret_in_any_generated_file(bundles: dict[str, Path]) -> None:
    for name, bundle in bundles.items():
        for path in bundle.rglob("*"):
            if path.is_file() and "rigfit-src" not in path.parts:
                text = path.read_text()
                for value in SECRETS.values():
                    assert value not in text, (name, path)
                assert not re.search(r"token\s*=\s*['\"][^'\"$]+['\"]", text, re.I), (name, path)  # a literal
                assert "codextoken" not in text
        env = (bundle / ".env.example").read_text()
        assert all(line.split("=", 1)[1] == "" for line in env.splitlines() if line.startswith(tuple(SECRETS)))
        assert ".env" not in (bundle / ".dockerignore").read_text().replace("!", "")  # only listed files enter


def test_the_build_context_holds_rigfit_and_runs_rigfit_install(bundles: dict[str, Path]) -> None:
    for name, bundle in bundles.items():
        assert (bundle / "rigfit-src" / "rigfit" / "cli.py").is_file() and (
            bundle / "rigfit-src" / "pyproject.toml"
        ).is_file()
        assert not list((bundle / "rigfit-src").rglob("__pycache__"))
        ui = name.split("-")[1] if name.count("-") else name
        text = (bundle / "Dockerfile").read_text()
        assert "/opt/rigfit/bin/rigfit install " in text and "--env /opt/sd" in text and "--torch-wheel" in text, name
        if ui in UIS:
            assert f"rigfit install {ui} " in text


def test_cuda_reserves_the_gpu_rocm_passes_devices_cpu_neither(bundles: dict[str, Path]) -> None:
    for ui in UIS:
        cuda = compose_of(bundles[f"cuda-{ui}"])["services"][ui]
        devices = cuda["deploy"]["resources"]["reservations"]["devices"]
        assert devices[0]["driver"] == "nvidia" and devices[0]["capabilities"] == ["gpu"]
        rocm = compose_of(bundles[f"rocm-{ui}"])["services"][ui]
        assert rocm["devices"] == ["/dev/kfd", "/dev/dri"] and "deploy" not in rocm
        assert all(g not in ("video", "render") for g in rocm["group_add"])
        cpu = compose_of(bundles[f"cpu-{ui}"])["services"][ui]
        assert "devices" not in cpu and "deploy" not in cpu and "group_add" not in cpu


def test_cpu_images_are_small_cpu_torch_and_headless_opencv(bundles: dict[str, Path]) -> None:
    for ui in UIS:
        text = (bundles[f"cpu-{ui}"] / "Dockerfile").read_text()
        assert "--index-url https://download.pytorch.org/whl/cpu" in text and "torch==2.13.0+cpu" in text
        assert "slim" in text.splitlines()[3] and "cu1" not in text and "rocm" not in text
        assert "rigfit add --env /opt/sd opencv-python-headless" in text and "uv pip uninstall" in text


def test_one_service_per_gpu_with_own_port_and_a_read_only_model_volume(bundles: dict[str, Path]) -> None:
    services = compose_of(bundles["rocm-a1111-gpus"])["services"]
    assert list(services) == ["a1111-gpu0", "a1111-gpu1"]
    assert [s["ports"] for s in services.values()] == [["127.0.0.1:7860:7860"], ["127.0.0.1:7861:7861"]]
    assert [s["environment"]["HIP_VISIBLE_DEVICES"] for s in services.values()] == ["0", "1"]
    for n, service in enumerate(services.values()):
        assert service["volumes"][0].endswith(":/data/models:ro")
        assert any(v.endswith(f"/gpu{n}:/data/state") for v in service["volumes"])


def test_gpus_names_an_unknown_card() -> None:
    with pytest.raises(RecipeError, match=r"--gpus 7: no rocm GPU with index 7.*known: 0 = "):
        make_target(profile_of("rx6800xt-r7-7700x-raphael-igpu"), PlanOptions(ui="forge"), gpus="7")


def test_numeric_gids_from_the_profile_go_into_group_add(tmp_path: Path) -> None:
    capture = tmp_path / "cap"
    shutil.copytree(MACHINES / "rx5500xt-debian11-a1111-docker", capture)
    gids = {"/dev/kfd": 105, "/dev/dri/renderD128": 105, "/dev/dri/card0": 44}  # test input, not a machine claim
    (capture / "facts" / "device_gids.json").write_text(json.dumps(gids))
    target = make_target(profile_of(capture), PlanOptions(ui="a1111"))
    write_bundle(target, tmp_path / "out")
    service = compose_of(tmp_path / "out")["services"]["a1111"]
    assert service["group_add"] == ["44", "105"]
    assert "KFD_GID" not in (tmp_path / "out" / ".env.example").read_text()


def test_listen_refused_for_a_ui_without_a_login() -> None:
    with pytest.raises(RecipeError, match="ComfyUI has no login"):
        make_target(profile_of("rtx5090-desktop"), PlanOptions(ui="comfyui"), listen=True)


# --- the seed machines -----------------------------------------------------------------------------------------


def test_seed_002_rx5500xt_gets_rocm_a1111_with_torch_1_13_and_the_override(bundles: dict[str, Path]) -> None:
    bundle = bundles["seed002"]
    docker = (bundle / "Dockerfile").read_text()
    assert "FROM python:3.10-slim-bookworm" in docker
    assert "--index-url https://download.pytorch.org/whl/rocm5.2" in docker
    assert "torch==1.13.1+rocm5.2 torchvision==0.14.1+rocm5.2" in docker
    service = compose_of(bundle)["services"]["a1111"]
    assert service["environment"]["HSA_OVERRIDE_GFX_VERSION"] == "10.3.0"
    assert service["devices"] == ["/dev/kfd", "/dev/dri"] and service["ports"] == ["127.0.0.1:7860:7860"]
    # the capture has group names only (`ls -la /dev/kfd` -> render): the numbers come from .env, never a name
    assert [g.split(":")[0] for g in service["group_add"]] == ["${KFD_GID", "${RENDER_GID"]
    assert "KFD_GID=\nRENDER_GID=\n" in (bundle / ".env.example").read_text()
    start = (bundle / "start.sh").read_text()
    assert "--medvram" in start and "--skip-install" in start and "--models-dir" in start
    assert "version" not in compose_of(bundle)


def test_seed_004_x5670_rx460_gets_a_cpu_image_since_rocm_rejects_the_card(bundles: dict[str, Path]) -> None:
    bundle = bundles["seed004"]
    service = compose_of(bundle)["services"]["a1111"]
    assert "devices" not in service and "group_add" not in service
    assert "torch==2.13.0+cpu" in (bundle / "Dockerfile").read_text()
    start = (bundle / "start.sh").read_text()
    assert "--use-cpu" in start and "--no-half" in start
    with pytest.raises(RecipeError, match="atomics"):
        make_target(profile_of("x5670-rx460-gfx803-x58"), PlanOptions(ui="a1111"), backend="rocm")


def test_seed_003_runpod_pod_keeps_the_pins_and_no_fixed_secret(bundles: dict[str, Path]) -> None:
    bundle = bundles["seed003-pod"]
    docker = (bundle / "Dockerfile").read_text()
    assert "FROM python:3.10-slim-bookworm" in docker  # the pod's Python: the py310 pytorch3d wheel
    assert "torch==2.1.0+cu121 torchvision==0.16.0+cu121" in docker and "whl/cu121" in docker
    assert "jupyterlab==4.6.6" in docker and "openssh-server" in docker
    pins = (bundle / "requirements-pins.txt").read_text().splitlines()
    for pin in ("pytorch3d==0.7.5", "kornia<0.8", "transformers<4.39", "huggingface_hub<0.26"):
        assert pin in pins
    assert (
        "--find-links https://dl.fbaipublicfiles.com/pytorch3d/packaging/wheels/py310_cu121_pyt210/download.html"
        in pins
    )
    jupyter = (bundle / "jupyter_server_config.py").read_text()
    assert "token" not in jupyter.split("\n", 2)[2].lower().replace("jupyter_token", "")
    start = (bundle / "pod-start.sh").read_text()
    assert 'if [ -z "${JUPYTER_TOKEN:-}" ]' in start and "secrets.token_urlsafe" in start
    assert 'if [ -n "${PUBLIC_KEY:-}" ]' in start
    sshd = (bundle / "sshd_config").read_text()
    assert "PasswordAuthentication no" in sshd and "PermitRootLogin no" in sshd
    service = compose_of(bundle)["services"]["comfyui"]
    assert service["ports"] == ["8888:8888", "2222:2222"]  # ComfyUI has no login: not published, 127.0.0.1 inside
    assert "127.0.0.1" in (bundle / "start.sh").read_text()
    a1111 = (bundles["cuda-a1111-pod"] / "pod-start.sh").read_text()
    assert 'if [ -n "${UI_AUTH:-}" ]' in a1111 and "UI_LISTEN=1" in a1111


def test_k8s_deployment_per_class_with_limits_labels_probe_and_secret(manifests: dict[str, Path]) -> None:
    out = manifests["a1111"]
    amd = yaml.safe_load((out / "deployment-amd.yaml").read_text())
    nvidia = yaml.safe_load((out / "deployment-nvidia.yaml").read_text())
    spec = amd["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert container["resources"]["limits"] == {"amd.com/gpu": 1} and amd["spec"]["replicas"] == 2
    assert spec["nodeSelector"] == {"beta.amd.com/gpu.family.NV": "1"}  # gfx1012 = Navi
    assert {"name": "HSA_OVERRIDE_GFX_VERSION", "value": "10.3.0"} in container["env"]
    assert container["readinessProbe"]["exec"]["command"][-1].endswith("healthcheck.py")
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert {"name": "ui-auth", "secret": {"secretName": "rigfit-a1111-auth", "defaultMode": 0o400}} in spec["volumes"]
    assert nvidia["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": 1}
    assert not any(e["name"].startswith("HSA_") for e in nvidia["spec"]["template"]["spec"]["containers"][0]["env"])
    terms = nvidia["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    major = terms["nodeSelectorTerms"][0]["matchExpressions"][0]
    assert major["key"] == "nvidia.com/gpu.compute.major" and major["operator"] == "In" and "8" in major["values"]
    claims = list(yaml.safe_load_all((out / "storage.yaml").read_text()))
    assert claims[0]["spec"]["accessModes"] == ["ReadOnlyMany"]
    assert "kind: Secret" not in "".join(p.read_text() for p in out.glob("*.yaml"))  # created by the person


def test_cli_docker_and_k8s_write_files_and_refuse_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    seed = str(MACHINES / "x5670-rx460-gfx803-x58")
    result = runner.invoke(app, ["docker", "--from", seed, "--ui", "a1111", "-o", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "compose.yaml").is_file() and "docker compose build" in result.output
    bad = runner.invoke(app, ["docker", "--from", seed, "--backend", "tpu"])
    assert bad.exit_code == 2 and "cpu, cuda, rocm" in bad.output
    (tmp_path / "file").write_text("keep me")
    onto_file = runner.invoke(app, ["docker", "--from", seed, "-o", str(tmp_path / "file")])
    assert onto_file.exit_code == 2 and "is a file" in onto_file.output
    assert (tmp_path / "file").read_text() == "keep me"
    as_json = runner.invoke(app, ["docker", "--from", seed, "--ui", "comfyui", "--json", "-o", str(tmp_path / "j")])
    summary = json.loads(as_json.output)
    assert summary["schema"] == "rigfit.docker/1" and summary["backend"] == "cpu" and summary["torch"] == "2.13.0+cpu"
    assert summary["services"] == [{"gpu": None, "port": 8188, "device": "Intel(R) Xeon(R) CPU X5670 @ 2.93GHz"}]
    k8s = runner.invoke(app, ["k8s", "--from", seed, "--gpu-class", "nvidia", "--json", "-o", str(tmp_path / "kj")])
    assert json.loads(k8s.output)["applied"] is False and (tmp_path / "kj" / "deployment-nvidia.yaml").is_file()
    refused = runner.invoke(app, ["k8s", "--from", seed, "-o", str(tmp_path / "k")])
    assert refused.exit_code == 2 and "--gpu-class" in refused.output and not (tmp_path / "k").exists()


@pytest.mark.slow
def test_the_copied_rigfit_source_installs_and_plans_like_the_dockerfile_does(
    bundles: dict[str, Path], tmp_path: Path
) -> None:
    """The Dockerfile's first step, for real: a fresh venv gets rigfit-src installed (the same PEP 517 build of its
    pyproject; uv here instead of the image's pip, for speed), then rigfit runs from that venv with its knowledge base
    (data files included) and plans the seed machine the same way."""
    venv = tmp_path / "rigfit-venv"
    uv = str(BIN / "uv")
    subprocess.run([uv, "venv", "-q", "--python", shutil.which("python3") or "python3", str(venv)], check=True)
    install = _run(
        [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), str(bundles["seed002"] / "rigfit-src")]
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    seed = str(MACHINES / "rx5500xt-debian11-a1111-docker")
    plan = _run([str(venv / "bin" / "rigfit"), "plan", "--from", seed, "--ui", "a1111", "--json"])
    assert plan.returncode == 0, plan.stderr[-3000:]
    decided = json.loads(plan.stdout)["plan"]
    assert (decided["backend"], decided["torch"]["version"], decided["torch"]["variant"]) == (
        "rocm",
        "1.13.1",
        "rocm5.2",
    )
    kb = _run(
        [str(venv / "bin" / "python"), "-c", "from rigfit.kb.registry import validate_all; print(validate_all())"]
    )
    assert kb.returncode == 0 and "issues/amd.yaml" in kb.stdout and "k8s_gpus.yaml" in kb.stdout, kb.stderr[-2000:]


def _has_compose() -> bool:
    """`docker compose` (the v2 plugin) runs: `config` needs no daemon. The docker client here has no compose plugin."""
    if shutil.which("docker") is None:
        return False
    return _run(["docker", "compose", "version"]).returncode == 0


@pytest.mark.skipif(not _has_compose(), reason="no `docker compose` here: compose files checked by the schema only")
def test_docker_compose_config_accepts_every_compose_file(bundles: dict[str, Path]) -> None:
    for name, bundle in bundles.items():
        env = "KFD_GID=44\nRENDER_GID=105\nUI_AUTH=u:p\n"
        (bundle / ".env").write_text(env)
        result = _run(["docker", "compose", "--project-directory", str(bundle), "config", "--quiet"])
        (bundle / ".env").unlink()
        assert result.returncode == 0, (name, result.stderr)


def _serve(status: int) -> tuple[object, int]:
    """A real HTTP server on a free local port answering every GET with `status`."""
    import http.server
    import threading

    class Reply(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/internal/ping" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Reply)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (401, True), (500, False), (None, False)])
def test_generated_healthcheck_against_a_real_server(
    bundles: dict[str, Path], status: int | None, healthy: bool
) -> None:
    """401 is up (behind the login); 500 or nothing listening is not."""
    script = bundles["cpu-forge"] / "healthcheck.py"
    server, port = _serve(status) if status else (None, 1)  # port 1: nothing listens there
    try:
        result = subprocess.run(
            [sys.executable, str(script)], env={"UI_PORT": str(port)}, capture_output=True, timeout=30, check=False
        )
    finally:
        if server is not None:
            server.shutdown()  # type: ignore[attr-defined]
    assert (result.returncode == 0) is healthy, result.stderr
