"""certhub settings: declarative, with every environment-dependent value from config.py."""

from __future__ import annotations

import os

from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from certhub import config

ENV = os.environ
DATA_DIR = config.data_dir(ENV)

# Demo mode is the quick start on a laptop: plain HTTP on 127.0.0.1, MFA optional.
DEMO = config.env_bool(ENV, "CERTHUB_DEMO", False)
DEBUG = config.env_bool(ENV, "CERTHUB_DEBUG", False)
SECRET_KEY = config.secret_key(ENV, DATA_DIR)
ALLOWED_HOSTS = config.env_list(ENV, "CERTHUB_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = config.env_list(ENV, "CERTHUB_CSRF_TRUSTED_ORIGINS", [])

# Incident references read {PREFIX}-{YEAR}-{NNNNNN}.
CERTHUB_REFERENCE_PREFIX = ENV.get("CERTHUB_REFERENCE_PREFIX", "CERT").strip() or "CERT"
# CERT staff must enrol a second factor before doing anything else.
CERTHUB_REQUIRE_MFA = config.env_bool(ENV, "CERTHUB_REQUIRE_MFA", not DEMO)
CERTHUB_SITE_NAME = ENV.get("CERTHUB_SITE_NAME", "certhub")
# Where this installation is reachable, and who publishes its CSAF advisories.
CERTHUB_BASE_URL = ENV.get("CERTHUB_BASE_URL", "https://cert.example").rstrip("/")
CERTHUB_CSAF_BASE_URL = CERTHUB_BASE_URL
CERTHUB_CSAF_PUBLISHER_NAME = ENV.get("CERTHUB_CSAF_PUBLISHER_NAME", "National CERT")
CERTHUB_CSAF_PUBLISHER_NAMESPACE = ENV.get("CERTHUB_CSAF_PUBLISHER_NAMESPACE", CERTHUB_BASE_URL)
# Publishing an advisory takes a reviewer other than its author.
CERTHUB_ADVISORY_TWO_PERSON = config.env_bool(ENV, "CERTHUB_ADVISORY_TWO_PERSON", True)
# Correlation: a value seen across more than this many organizations is widespread
# (escalation rule "widespread", one alert to the national team); one in more than
# CERTHUB_INTEL_COMMON_THRESHOLD incidents or organizations is common and stops linking.
CERTHUB_INTEL_WIDESPREAD_ORGS = config.env_int(ENV, "CERTHUB_INTEL_WIDESPREAD_ORGS", 3)
CERTHUB_INTEL_COMMON_THRESHOLD = config.env_int(ENV, "CERTHUB_INTEL_COMMON_THRESHOLD", 20)
# Login throttling: failures allowed per username and per client address in the window.
CERTHUB_LOGIN_FAILURES_PER_USER = 5
CERTHUB_LOGIN_FAILURES_PER_IP = 30
CERTHUB_LOGIN_WINDOW_SECONDS = 15 * 60

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "ninja",
    "certhub.core",
    "certhub.audit",
    "certhub.accounts",
    "certhub.tenancy",
    "certhub.notify",
    "certhub.incidents",
    "certhub.feeds",
    "certhub.intel",
    "certhub.advisories",
    "certhub.awareness",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "certhub.accounts.middleware.UserTimezoneMiddleware",
    "certhub.tenancy.middleware.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "certhub.urls"
WSGI_APPLICATION = "certhub.wsgi.application"
ASGI_APPLICATION = "certhub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "certhub.core.context_processors.site",
            ],
        },
    }
]

DATABASES = config.database_config(ENV, DATA_DIR)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["certhub.accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "mail", "feeds"],
    }
}

# Times are stored in UTC and shown in the user's zone (demo default Asia/Karachi).
USE_TZ = True
TIME_ZONE = "UTC"
CERTHUB_DEFAULT_TIME_ZONE = ENV.get("CERTHUB_TIME_ZONE", "Asia/Karachi")
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ur", _("Urdu"))]
LOCALE_PATHS = [os.path.join(os.path.dirname(__file__), "locale")]

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "files"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders as well, so a fresh checkout works before collectstatic.
WHITENOISE_USE_FINDERS = True

MAILERS = config.email_config(ENV)
DEFAULT_FROM_EMAIL = ENV.get("CERTHUB_FROM_EMAIL", "certhub@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security: production-safe unless the operator says the site runs on plain HTTP.
HTTPS = config.env_bool(ENV, "CERTHUB_HTTPS", not DEMO)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 60 * 60
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_SSL_REDIRECT = config.env_bool(ENV, "CERTHUB_SSL_REDIRECT", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# How many reverse proxies stand in front of certhub: their X-Forwarded-Proto is trusted,
# and the client address for login throttling is read from X-Forwarded-For.
CERTHUB_TRUSTED_PROXIES = config.env_int(ENV, "CERTHUB_TRUSTED_PROXIES", 0)
if CERTHUB_TRUSTED_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

NINJA_PAGINATION_MAX_LIMIT = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": ENV.get("CERTHUB_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
