#!/bin/bash
# One prepared device check: rigfit on a real NVIDIA GPU machine (capture, doctor, plan, verify, bench).
# Usage (repo root, on the GPU machine): bash benchmarks/gpu_check.sh ENV_DIR OUTDIR [install-wheels]
# install-wheels: pip-installs the wheels in .whl/ (e.g. diffusers for bench) into ENV_DIR first (no network there).
ENV=$1; O=$2; mkdir -p "$O"
export RIGFIT_HOME=/tmp/rigfit-home PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
PY=$ENV/bin/python3
if [ "$3" = install-wheels ]; then "$PY" -m pip install -q --no-index --no-deps --no-compile .whl/*.whl 2>&1 | tail -3; fi
rf() { timeout "$1" "$PY" -c 'from rigfit.cli import main; main()' "${@:2}"; }
t() { local s rc; s=$(date +%s.%N); "$@"; rc=$?; echo "[rc=$rc $(python3 -c "print(round($(date +%s.%N)-$s,1))") s: ${*:2:3}]"; }
{ nvidia-smi; nvidia-smi -q; nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap,pcie.link.gen.max,pcie.link.gen.current,pcie.link.width.current --format=csv; } > "$O/nvidia-smi.txt" 2>&1
uname -a > "$O/uname.txt"; "$PY" -c 'import torch,sys; print(torch.__version__, torch.version.cuda, torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, torch.cuda.get_device_capability(0) if torch.cuda.is_available() else None, sys.version)' >> "$O/uname.txt" 2>&1
t rf 120 capture -o "$O/capture.tar.gz" --env "$ENV" > "$O/capture.log" 2>&1
t rf 120 doctor > "$O/doctor.txt" 2>&1
t rf 120 doctor --json > "$O/doctor.json" 2>&1
t rf 120 plan > "$O/plan.txt" 2>&1
t rf 120 plan --json > "$O/plan.json" 2>&1
t rf 150 verify --env "$ENV" --json > "$O/verify.json" 2>"$O/verify.err"
t rf 180 bench --env "$ENV" --steps 5 --plot "$O/bench-sd15.png" --json > "$O/bench-sd15.json" 2>"$O/bench-sd15.err"
t rf 120 bench --env "$ENV" --model sdxl --steps 3 --json > "$O/bench-sdxl.json" 2>"$O/bench-sdxl.err"
ls -la "$O"
