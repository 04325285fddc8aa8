# One image for every AIMS process: `aims serve <app>`, `aims migrate`, `aims org create`, …
# Dependencies are pinned by constraints.txt, the same pins `python3 dev.py` installs.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/aims
ENV PATH=/opt/aims/bin:$PATH
WORKDIR /src

# Dependencies first, in their own layer: a code change does not reinstall them.
# README.m[d]: a glob, so the build does not depend on the file existing yet.
COPY pyproject.toml constraints.txt README.m[d] ./
RUN mkdir aims && touch aims/__init__.py \
    && pip install -c constraints.txt . \
    && pip uninstall -y aims \
    && rm -rf aims build *.egg-info

COPY aims ./aims
COPY shared ./shared
COPY services ./services
COPY gateway ./gateway
COPY migrations ./migrations
RUN pip install --no-deps -c constraints.txt . \
    && aims --help >/dev/null

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/aims/bin:$PATH \
    AIMS_ENVIRONMENT=production \
    AIMS_VAR_DIR=/var/lib/aims
RUN useradd --system --uid 10001 --home-dir /var/lib/aims --shell /usr/sbin/nologin aims \
    && mkdir -p /var/lib/aims/blobs \
    && chown -R aims:aims /var/lib/aims
COPY --from=build /opt/aims /opt/aims
USER aims
WORKDIR /var/lib/aims
EXPOSE 8000 8001 8002 8003
ENTRYPOINT ["aims"]
CMD ["--help"]
