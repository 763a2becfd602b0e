# forv-tts in a container: `docker build .` is the image that speaks without torch (ONNX engine, exported
# voices, the built-in voice); `docker build --target full .` adds the checkpoints extra (torch CPU +
# coqui-tts) for `export` and `--engine torch`.
#
#   docker run --rm -v "$PWD/out:/data" IMAGE say "안녕하세요" -o /data/a.wav     # the CLI
#   docker run -p 8000:8000 -v "$PWD/voice_model:/voices:ro" IMAGE            # serves on 0.0.0.0:8000
#
# Every stage starts FROM debian:bookworm-slim: it is the one base image our machines can build (no
# registry is reachable there; ../shared/containers/podman-setup.sh builds it from the Debian mirror
# under that name), and Debian's python3 (3.11) is the interpreter, so nothing else is pulled.
#
# Build args: PIP_CERT (a CA bundle for pip, as our machines need: podman-setup.sh passes it with the
# mounts of this machine's pip configuration; harmless and unset elsewhere) and TORCH_INDEX (`full`
# only: where the CPU build of torch==2.13.0 comes from; empty uses pip's configured indexes, as on
# our machines, whose wheel directory holds it).

# --- runtime base: the interpreter, the user, the directories -------------------------------------------
FROM debian:bookworm-slim AS base
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
    && useradd --uid 10001 --user-group --create-home --home-dir /home/forv --shell /usr/sbin/nologin forv \
    && mkdir -p /voices /cache /data \
    && chown forv:forv /voices /cache /data
ENV PATH=/opt/forv-tts/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FORV_TTS_VOICE_DIR=/voices \
    FORV_TTS_CACHE_DIR=/cache \
    FORV_TTS_OUT_DIR=/data

# --- build: a virtualenv in /opt/forv-tts with the package and its dependencies -------------------------
FROM base AS build
ARG PIP_CERT
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/forv-tts
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
# Dependencies first, against a placeholder package (and readme), so a change to the source or the
# README rebuilds only the last layers.
COPY pyproject.toml /src/
RUN mkdir -p /src/forv_tts && touch /src/forv_tts/__init__.py /src/README.md \
    && if [ -n "$PIP_CERT" ]; then export PIP_CERT; else unset PIP_CERT; fi \
    && { /opt/forv-tts/bin/pip install -q /src >/tmp/pip.log 2>&1 \
         || { grep -v '^WARNING: Location' /tmp/pip.log; exit 1; }; } \
    && /opt/forv-tts/bin/python -c "import onnxruntime, celery, fastapi" \
    && /opt/forv-tts/bin/pip uninstall -q -y forv-tts && rm -rf /tmp/pip.log /src/build /src/*.egg-info
COPY README.md /src/
COPY forv_tts /src/forv_tts
RUN if [ -n "$PIP_CERT" ]; then export PIP_CERT; else unset PIP_CERT; fi \
    && /opt/forv-tts/bin/pip install -q --no-deps /src \
    && /opt/forv-tts/bin/python -m compileall -q /opt/forv-tts/lib \
    && /opt/forv-tts/bin/forv-tts --version

# --- speak-build: the default image's virtualenv, less what never runs in it ---------------------------------
# konlpy (with JPype1 and lxml, 40 MB) is declared by g2pk but never imported (forv-tts reads with
# python-mecab-ko); pip and setuptools install nothing at run time. The check runs g2pk and the voice.
FROM build AS speak-build
RUN /opt/forv-tts/bin/pip uninstall -q -y konlpy JPype1 lxml \
    && /opt/forv-tts/bin/forv-tts normalize "사과 3개" \
    && /opt/forv-tts/bin/forv-tts say "네" -o /tmp/check.wav && rm /tmp/check.wav \
    && /opt/forv-tts/bin/python -m pip uninstall -q -y pip setuptools \
    && rm -rf /root/.cache

# --- full-build: the checkpoints extra on top ---------------------------------------------------------
FROM build AS full-build
ARG PIP_CERT
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN if [ -n "$PIP_CERT" ]; then export PIP_CERT; else unset PIP_CERT; fi \
    && { /opt/forv-tts/bin/pip install -q ${TORCH_INDEX:+--extra-index-url "$TORCH_INDEX"} "/src[checkpoints]" \
         >/tmp/pip.log 2>&1 || { grep -v '^WARNING: Location' /tmp/pip.log; exit 1; }; } \
    && rm -f /tmp/pip.log
# (pip compiled the bytecode; compileall would stop at torch's Python 3.12-only test helpers.)
# The CPU build of the pinned torch, and coqui-tts importable the way forv-tts imports it (no torchaudio).
RUN /opt/forv-tts/bin/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__; \
assert not torch.cuda.is_available() and torch.version.cuda is None, 'not the CPU build'; \
from forv_tts.voices.coqui.compat import ensure_coqui_importable; ensure_coqui_importable(); \
import TTS.tts.models.glow_tts, TTS.vocoder.models.hifigan_generator"

# --- what both images share at run time ---------------------------------------------------------------
FROM base AS runtime
USER forv
WORKDIR /data
VOLUME ["/voices", "/cache", "/data"]
EXPOSE 8000
# /healthz: 200 while `serve` and its queue and result backend answer (compose gives workers their own).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["forv-tts"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

# --- full: reads training checkpoints (export, --engine torch) ----------------------------------------
FROM runtime AS full
COPY --from=full-build /opt/forv-tts /opt/forv-tts

# --- default (last, so `docker build .` makes it): speaks without torch -----------------------------------
FROM runtime AS speak
COPY --from=speak-build /opt/forv-tts /opt/forv-tts
