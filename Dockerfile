# syntax=docker/dockerfile:1
# Two targets:
#   cpu (default) — the evalbot CLI on a small image (README tables, Artificial Analysis, publishing)
#   gpu           — adds the evaluation engines on CUDA with vLLM; HF Jobs run `evalbot evaluate` in it
# Build: docker build -t evalbot .            docker build --target gpu -t evalbot-gpu .

FROM python:3.11-slim AS cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 EVALBOT_HOME=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY evaluators ./evaluators
COPY templates ./templates
COPY examples ./examples
RUN pip install --no-compile . \
    && useradd --create-home --uid 10001 evalbot \
    && mkdir -p /data && chown evalbot /data
USER evalbot
VOLUME ["/data"]
ENTRYPOINT ["evalbot"]
CMD ["--help"]

# vLLM 0.10.1.1 is the release lighteval 0.13's vLLM backend is written for (lighteval[vllm] pins
# >=0.10.0,<0.10.2); it brings its own CUDA torch. lighteval is installed without the extra so
# pip resolves one consistent set; ray and more_itertools are what lighteval imports once vLLM is there.
FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04 AS gpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 EVALBOT_HOME=/data \
    PIP_BREAK_SYSTEM_PACKAGES=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-pip python3-venv \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY evaluators ./evaluators
COPY templates ./templates
RUN python3 -m pip install --no-compile "vllm==0.10.1.1" \
    && python3 -m pip install --no-compile ".[eval]" ray more_itertools "xxhash<4" \
    && useradd --create-home --uid 10001 evalbot \
    && mkdir -p /data && chown evalbot /data
USER evalbot
ENTRYPOINT ["evalbot"]
CMD ["--help"]
