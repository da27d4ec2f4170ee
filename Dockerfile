# The app: Python packages and code.
FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml constraints.txt ./
COPY . .
# Management commands at build time load the production settings, which refuse a weak
# SECRET_KEY: a random throwaway one (nothing is signed at build time; the real key comes at
# run time), and a database URL that is never connected to.
RUN pip install -c constraints.txt . \
    && SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
       DATABASE_URL=postgres://build@localhost/build \
       python manage.py spectacular --format openapi-json --file /tmp/openapi.json

# The PWA, built with Node against the API schema of this very code.
FROM node:20-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
COPY --from=app /tmp/openapi.json ./openapi.json
RUN npm run build

FROM app
COPY --from=frontend /frontend/dist /app/frontend/dist
# .br and .gz beside each file of the PWA, which WhiteNoise serves to browsers that take them.
RUN python -m whitenoise.compress -q /app/frontend/dist
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
       DATABASE_URL=postgres://build@localhost/build \
       python manage.py collectstatic --noinput
RUN useradd --system --uid 1000 app && chown -R app /app
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4"]
