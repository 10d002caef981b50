#!/usr/bin/env bash
# One-time setup on a fresh Debian machine: system packages, the CPU build of torch, the project.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends espeak-ng sox ffmpeg chromium chromium-driver >/dev/null
fi
python3 -m pip install -q --upgrade pip
python3 -m pip install -q torch==2.13.0
# deepspeed is a source distribution: build it against the torch above, not a freshly downloaded one.
python3 -m pip install -q --no-build-isolation deepspeed==0.19.8
python3 -m pip install -q -e ".[dev]"
