# One image for every role of docker-compose.yml: init, simulator, worker, schedules, board.
#   docker build -t factory-agents .
#   docker run --rm factory-agents --help
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The pinned versions of constraints.txt, PostgreSQL's driver included; the sources are not kept.
COPY pyproject.toml constraints.txt README.md /src/
COPY factory_agents /src/factory_agents
COPY connectors /src/connectors
COPY workflows /src/workflows
COPY dashboards /src/dashboards
RUN pip install -c /src/constraints.txt '/src[postgres]' && rm -rf /src

# A non-root account owns FACTORY_HOME (signing.key, users.json, policy.toml, first-login.txt).
# A named volume mounted there starts as a copy of this folder: owned by it, mode 0700.
RUN useradd --system --uid 10001 --user-group --no-log-init \
        --home-dir /var/lib/factory-agents --create-home --shell /usr/sbin/nologin factory \
    && chmod 0700 /var/lib/factory-agents
ENV FACTORY_HOME=/var/lib/factory-agents
USER factory
WORKDIR /var/lib/factory-agents

# OPC UA (simulate), board, Temporal SDK metrics and the platform's metrics (worker).
EXPOSE 4840 8501 9464 9465
# Health is role-specific, so docker-compose.yml defines each probe; python is all they need.
ENTRYPOINT ["factory-agents"]
CMD ["--help"]
