FROM python:3.11-slim
RUN useradd --create-home --uid 10001 noskhe
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY fhir_server ./fhir_server
COPY smart_auth ./smart_auth
COPY terminology ./terminology
COPY profiles ./profiles
RUN pip install --no-cache-dir . && mkdir /data && chown noskhe /data
USER noskhe
ENV NOSKHE_PROFILES=/app/profiles/ir-eprescription
EXPOSE 8080
VOLUME ["/data"]
# Listening on all addresses needs the public base URL: docker run -e NOSKHE_BASE_URL=https://.../fhir
# (and -e NOSKHE_TRUST_PROXY=1 behind a reverse proxy). Without it the server refuses to start.
CMD ["fhir-server", "serve", "--host", "0.0.0.0", "--port", "8080", "--data", "/data"]
