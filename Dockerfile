# The course image: JupyterLab, the course CLI and a Celery worker all run from it.
FROM python:3.11-slim
WORKDIR /course
ENV PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md constraints.txt ./
COPY course ./course
RUN pip install --no-cache-dir -c constraints.txt -e '.[dev]'
COPY . .
EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root", "--notebook-dir=notebooks"]
