FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    FIELDAPP_DATABASE_URL=sqlite:////data/fieldapp.sqlite3 \
    FIELDAPP_MEDIA_DIR=/data/media

WORKDIR /app
COPY pyproject.toml README.md ./
COPY fieldapp ./fieldapp
RUN pip install --no-cache-dir -e .
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static

RUN useradd --create-home --uid 10001 fieldapp && mkdir -p /data && chown fieldapp /data
USER fieldapp
VOLUME ["/data"]
EXPOSE 8000

# Migrate, then serve. FIELDAPP_SECRET_KEY must be given at run time (the app refuses to start without it).
CMD ["sh", "-c", "flask --app fieldapp db upgrade && exec gunicorn --bind 0.0.0.0:8000 --workers 2 --threads 4 'fieldapp:create_app()'"]
