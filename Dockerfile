# One image for every role: simulator, worker, board, schedules (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY factory_agents ./factory_agents
COPY connectors ./connectors
COPY workflows ./workflows
COPY dashboards ./dashboards
RUN pip install --no-cache-dir -c constraints.txt '.[postgres]'
ENV FACTORY_HOME=/var/lib/factory-agents
ENTRYPOINT ["factory-agents"]
