"""Settings for the knowledge base, read from KB_* environment variables.

Every variable is listed in .env.example. The defaults make a fresh clone run: DEBUG on,
an SQLite file and a Whoosh index under var/. With KB_DEBUG=0 the secret key and the
allowed hosts must be given.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from kb.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KB_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("KB_DEBUG", True)

SECRET_KEY = env_str("KB_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("KB_SECRET_KEY is required when KB_DEBUG=0")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ALLOWED_HOSTS = env_list("KB_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("KB_ALLOWED_HOSTS is required when KB_DEBUG=0")
CSRF_TRUSTED_ORIGINS = env_list("KB_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "kb.apps.KbConfig",
    "troubleshooter.apps.TroubleshooterConfig",
]

# kb/middleware.py says what each of ours does and why it sits where it does.
MIDDLEWARE = [
    "kb.middleware.SecurityHeadersMiddleware",
    "kb.middleware.RequestBodyMiddleware",
    "kb.middleware.AdminLoginThrottle",
    "django.middleware.security.SecurityMiddleware",
    "kb.middleware.StaticFilesMiddleware",
    "kb.middleware.HeadAsGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Interface language: the switch's cookie, then Accept-Language; `?lang=` wins per request.
    "django.middleware.locale.LocaleMiddleware",
    "kb.i18n.QueryLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "kb.urls"
WSGI_APPLICATION = "kb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# KB_DATABASE_URL wins, then the usual DATABASE_URL, then a local SQLite file.
_database_url = env_str("KB_DATABASE_URL", "") or env_str("DATABASE_URL", "")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("KB_SQLITE_PATH", str(VAR_DIR / "kb.sqlite3")),
            # Each thread keeps its connection: opening one (the WAL pragma, Django's SQL
            # functions) and closing it took 4 ms of every request, as much as the queries.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                # Two imports at once (or an import beside the web server) wait for the write
                # lock instead of failing with "database is locked": up to 20 s per statement,
                # and write transactions take the lock when they begin, so a reader that
                # later wants to write cannot deadlock with another writer.
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                # Readers (the web server) never wait for a writer (the importer).
                "init_command": "PRAGMA journal_mode=WAL",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The interface languages (templates, locale/). Articles use en, ja and zh; zh-hans is our zh.
LANGUAGES = [("en", "English"), ("ja", "日本語"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language switch remembers the choice for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("KB_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "kb.static_storage.StaticStorage"
        )
    },
}
# Fragments of the page frame that are the same on every page of a language (templates/base.html:
# menu, labels, language list), kept per process; in DEBUG not kept, so template edits show.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "fragments": {
        "BACKEND": (
            "django.core.cache.backends.dummy.DummyCache"
            if DEBUG
            else "django.core.cache.backends.locmem.LocMemCache"
        ),
        "LOCATION": "fragments",
        "TIMEOUT": None,
    },
}

# --- Knowledge base -------------------------------------------------------------------------
# Our curated articles, imported by `manage.py import_articles` when no path is given.
KB_ARTICLES_DIR = Path(env_str("KB_ARTICLES_DIR", str(BASE_DIR / "articles")))
# The Whoosh index lives on local disk, one per instance, rebuilt from the database. Never put it
# on NFS/EFS/Azure Files: Whoosh mmaps segments and deletes them at commit (RESEARCH.md).
KB_INDEX_DIR = Path(env_str("KB_INDEX_DIR", str(VAR_DIR / "index")))
# A missing, damaged or stale index is rebuilt by a background thread of the web process
# (kb/search/); searches check how fresh it is at most every KB_INDEX_CHECK_SECONDS.
KB_INDEX_SELF_HEAL = env_bool("KB_INDEX_SELF_HEAL", True)
KB_INDEX_CHECK_SECONDS = env_int("KB_INDEX_CHECK_SECONDS", 60, minimum=1)

# --- Limits on untrusted input (documented in the README) -----------------------------------
# Whole request body, checked from Content-Length before Django reads it.
KB_MAX_REQUEST_BYTES = env_int("KB_MAX_REQUEST_BYTES", 3 * 1024 * 1024, minimum=1024)
# A manifest (pasted or uploaded), a pasted log, and a search query.
KB_MAX_MANIFEST_BYTES = env_int("KB_MAX_MANIFEST_BYTES", 2_000_000, minimum=1024)
KB_MAX_LOG_BYTES = env_int("KB_MAX_LOG_BYTES", 2_000_000, minimum=1024)
KB_MAX_QUERY_CHARS = env_int("KB_MAX_QUERY_CHARS", 20_000, minimum=100)
KB_MAX_MANIFEST_DOCUMENTS = env_int("KB_MAX_MANIFEST_DOCUMENTS", 5_000, minimum=1)
KB_MAX_MANIFEST_OBJECTS = env_int("KB_MAX_MANIFEST_OBJECTS", 5_000, minimum=1)
KB_MAX_YAML_DEPTH = env_int("KB_MAX_YAML_DEPTH", 100, minimum=10)
KB_MAX_YAML_ALIASES = env_int("KB_MAX_YAML_ALIASES", 100, minimum=0)

# Heavy requests (analyses, diagnoses, large bodies) run in child processes (kb/isolation.py):
# this many at a time per gunicorn worker, this many more waiting at most this long (the rest
# get 429 + Retry-After), each stopped after this many seconds.
KB_HEAVY_CONCURRENCY = env_int("KB_HEAVY_CONCURRENCY", 1, minimum=1)
KB_HEAVY_QUEUE = env_int("KB_HEAVY_QUEUE", 2, minimum=0)
KB_HEAVY_WAIT_SECONDS = env_int("KB_HEAVY_WAIT_SECONDS", 10, minimum=0)
KB_HEAVY_TIMEOUT_SECONDS = env_int("KB_HEAVY_TIMEOUT_SECONDS", 60, minimum=1)
# After this many heavy requests a worker's children are replaced, in the background.
KB_HEAVY_RENEW_AFTER_TASKS = env_int("KB_HEAVY_RENEW_AFTER_TASKS", 100, minimum=1)
# Every this many Japanese queries a worker unmaps the MeCab dictionary's pages it touched
# (kb/dictionary_pages.py: its resident set, not the answers); 0 never. 1 since 2026-12-04:
# peak RSS 127-130 MB a worker against 137-141 MB with 4 (bench/RESULTS.md).
KB_DICTIONARY_RELEASE_EVERY = env_int("KB_DICTIONARY_RELEASE_EVERY", 1, minimum=0)
# Admin login attempts per client address and window (kb.middleware.AdminLoginThrottle).
KB_ADMIN_LOGIN_ATTEMPTS = env_int("KB_ADMIN_LOGIN_ATTEMPTS", 10, minimum=1)
KB_ADMIN_LOGIN_WINDOW_SECONDS = env_int("KB_ADMIN_LOGIN_WINDOW_SECONDS", 300, minimum=1)

DATA_UPLOAD_MAX_MEMORY_SIZE = KB_MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = KB_MAX_REQUEST_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DATA_UPLOAD_MAX_NUMBER_FILES = 5

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style anywhere: htmx is configured through a <meta> tag (base.html).
KB_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("KB_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("KB_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KB_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("KB_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is an operator's deliberate, hard-to-undo decision (KB_HSTS_PRELOAD=1);
        # the deployment checklist's reminder about it is silenced until then.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    if env_bool("KB_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs carry paths and status codes, never request bodies or pasted text.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            # Tracebacks without exception messages, which may quote pasted text (kb/logs.py).
            "()": "kb.logs.NoExceptionTextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("KB_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # Its DEBUG records ("Exception while resolving variable") carry the whole template
        # context, pasted manifests and logs included: never below INFO, whatever KB_LOG_LEVEL.
        "django.template": {"level": "INFO"},
    },
}

# Whitenoise warns at start-up when the static root is missing; create the local folders.
os.makedirs(VAR_DIR, exist_ok=True)
os.makedirs(STATIC_ROOT, exist_ok=True)
