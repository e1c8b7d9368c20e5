# syntax=docker/dockerfile:1
# Two targets (cpu comes last: the last stage is what a plain `docker build .` builds; BuildKit
# builds only the stages the chosen target needs):
#   cpu (default) — the webhook bot service: `evalbot serve` on port 8080 (README tables,
#                   Artificial Analysis, publishing, ChatOps), state in the /data volume
#   gpu           — adds the evaluation engines on CUDA with vLLM; the image HF Jobs run
#                   `evalbot evaluate` in (EVALBOT_GPU_IMAGE)
# Build: docker build -t evalbot .            docker build --target gpu -t evalbot-gpu .
# Run:   docker run -p 8080:8080 -v evalbot-data:/data -e HF_TOKEN -e EVALBOT_WEBHOOK_SECRET evalbot
#        (put evalbot.yaml in /data, or point EVALBOT_CONFIG at it)
#
# The project is installed as "./[extra]" rather than ".[extra]": the same local install, spelled
# so that hadolint sees a path and not an unpinned package name (DL3013).

# vLLM 0.10.1.1 is the release lighteval 0.13's vLLM backend is written for (lighteval[vllm] pins
# >=0.10.0,<0.10.2); it brings its own CUDA torch. lighteval is installed without its vllm extra
# and everything is resolved in one pip call, so pip settles one consistent set around the vLLM
# pin; the `gpu` extra adds ray and more_itertools, which lighteval imports once vLLM is there.
# Triton (vLLM's kernels, torch.compile) builds a small C launcher at run time with the system C
# compiler and the Python headers, hence gcc, libc6-dev and python3-dev in a runtime image.
# A venv keeps pip away from Ubuntu's own Python packages.
FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04 AS gpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    EVALBOT_HOME=/data VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
# Versions come from the base image's Ubuntu release (24.04, pinned by the tag above): exact apt
# pins would break this build at the next Ubuntu security update, whose archive drops the old ones.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python3-dev gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY evaluators ./evaluators
COPY templates ./templates
COPY examples/demo ./examples/demo
RUN python -m pip install --no-compile "vllm==0.10.1.1" "./[eval,gpu]" \
    && groupadd --gid 10001 evalbot \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin evalbot \
    && mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
WORKDIR /data
ENTRYPOINT ["evalbot"]
CMD ["--help"]

FROM python:3.11-slim AS cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
    EVALBOT_HOME=/data PORT=8080
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY evaluators ./evaluators
COPY templates ./templates
COPY examples ./examples
RUN pip install --no-compile "./[server,github,postgres]" \
    && groupadd --gid 10001 evalbot \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin evalbot \
    && mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
# ./evalbot.yaml is read from the working directory, so a config file in the volume is found
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# no curl in slim images: the stdlib's urllib fails (non-zero exit) on anything but a 2xx
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"]
ENTRYPOINT ["evalbot"]
# the container's own interface: publish the port, and set EVALBOT_STATUS_TOKEN for the status pages
CMD ["serve", "--host", "0.0.0.0"]

# The GitHub Action (action.yml: `image: Dockerfile` builds this last stage). GitHub runs Docker
# actions as root: the runner's GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and workspace belong to it.
# The service image is the `cpu` target: docker build --target cpu -t evalbot .
FROM cpu AS action
# root on purpose: GitHub requires Docker actions to run as the default (root) user
# hadolint ignore=DL3002
USER 0
WORKDIR /github/workspace
ENTRYPOINT ["evalbot"]
CMD ["action"]
