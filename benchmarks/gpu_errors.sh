#!/bin/bash
# Real CUDA error texts from torch on a real GPU, and rigfit in the "CUDA torch, no GPU visible" state.
# Usage (on the GPU machine): bash benchmarks/gpu_errors.sh OUTDIR
O=$1; mkdir -p "$O"; cd "$(dirname "$0")/.." || exit 1
export RIGFIT_HOME=/tmp/rigfit-home PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
ENV=$(python3 -c 'import sys;print(sys.prefix)')
py() { local name=$1; shift; echo "\$ python3 $name.py" > "$O/$name.txt"; timeout 120 python3 -c "$*" >> "$O/$name.txt" 2>&1; echo "[exit $?]" >> "$O/$name.txt"; }
py oom-200gib "import torch
x = torch.empty(int(200 * 2**30), dtype=torch.uint8, device='cuda')"
py oom-after-130gib "import torch
held = torch.empty(int(130 * 2**30), dtype=torch.uint8, device='cuda')
latents = torch.randn(4096, 4096, 1024, device='cuda')"
py device-mismatch "import torch
layer = torch.nn.Linear(4, 4).cuda()
print(layer(torch.randn(2, 4)))"
py dtype-mismatch "import torch
layer = torch.nn.Linear(4, 4).cuda().half()
print(layer(torch.randn(2, 4, device='cuda')))"
py device-side-assert "import torch
emb = torch.nn.Embedding(10, 4).cuda()
out = emb(torch.tensor([11], device='cuda'))
torch.cuda.synchronize()
print(out)"
py invalid-ordinal "import torch
print(torch.zeros(1, device='cuda:1'))"
CUDA_VISIBLE_DEVICES='' py no-visible-gpu "import torch
print(torch.__version__, torch.version.cuda, torch.cuda.is_available(), torch.cuda.device_count())
print(torch.zeros(1).cuda())"
CUDA_VISIBLE_DEVICES='' timeout 120 python3 -c 'from rigfit.cli import main; main()' capture -o "$O/capture-no-visible-gpu.tar.gz" --env "$ENV" > "$O/capture-no-visible-gpu.log" 2>&1
CUDA_VISIBLE_DEVICES='' timeout 120 python3 -c 'from rigfit.cli import main; main()' doctor > "$O/doctor-no-visible-gpu.txt" 2>&1; echo "[exit $?]" >> "$O/doctor-no-visible-gpu.txt"
ls -la "$O"
