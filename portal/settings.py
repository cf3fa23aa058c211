"""The portal's one settings module. Environment variables are read here, and only here."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import sys
from pathlib import Path

from portal.conf import DEFAULTS as PORTAL_DEFAULTS
from portal.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_overrides,
    read_bool,
    read_int,
    read_int_list,
    read_str,
    required_unless_debug,
)

BASE_DIR = Path(__file__).resolve().parent.parent
TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "dev-insecure-secret-key-only-for-local-runs-0123456789abcdefghijklmnop"
SECRET_KEY = required_unless_debug(
    "DJANGO_SECRET_KEY", os.environ.get("DJANGO_SECRET_KEY", ""), debug=DEBUG, why="",
    generate="python -c 'import secrets; print(secrets.token_urlsafe(50))'", fallback=lambda: _DEV_SECRET_KEY,
)


def _derived_dev_value(purpose: str) -> bytes:
    # Only in debug: a stable value derived from the secret key so local runs need no setup.
    return hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).digest()


PORTAL_HASH_KEY = required_unless_debug(
    "PORTAL_HASH_KEY", os.environ.get("PORTAL_HASH_KEY", ""), debug=DEBUG,
    why=": it keys the HMAC that stores API-key secrets",
    generate="python -c 'import secrets; print(secrets.token_urlsafe(48))'",
    fallback=lambda: _derived_dev_value("portal-hash-key").hex(),
)

PORTAL_ENCRYPTION_KEYS = required_unless_debug(
    "PORTAL_ENCRYPTION_KEYS", env_list("PORTAL_ENCRYPTION_KEYS", ""), debug=DEBUG,
    why=" (comma-separated Fernet keys)",
    generate="python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
    fallback=lambda: [base64.urlsafe_b64encode(_derived_dev_value("portal-encryption-key")).decode()],
)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
if TESTING:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]

PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", PORTAL_DEFAULTS["BASE_URL"]).rstrip("/")
CSRF_TRUSTED_ORIGINS = [PORTAL_BASE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "portal.apps.PortalConfig",
    "accounts",
    "audit",
    "applications",
    "apikeys",
    "oauthapps",
    "leaks",
    "webhooks",
    "notifications",
    "usage",
    # Least privilege (contract section 19): the policy low, what reads keys and clients on top.
    "policies",
    "security",
    "dashboard",  # the top floor: pages that read several features; no models
    "gateway",  # section 18: resource servers, their introspection and /gateway/auth; above every app it uses
]

MIDDLEWARE = [
    # First, so that every API response carries X-Request-Id and is seen by the usage counter (section 15).
    "portal.api.observe.ApiRequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # portal.apichain: django-csp's policy built once; each "portal.apichain" middleware below is the one its name
    # says, skipped by an API request that carries no session (a key or token request, or no session cookie).
    "portal.apichain.CSPMiddleware",
    "portal.apichain.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before any middleware or view that reads the session, a form or the database with the request's input.
    "portal.middleware.NulInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # named as is: check --deploy looks for it (cheap on the API)
    "portal.apichain.AuthenticationMiddleware",
    "portal.apichain.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # With debug on, the portal's own 404, 400 and 500 pages instead of Django's technical ones (not on the API).
    # Above every middleware that handles a view's exception (allauth's AccountMiddleware turns
    # ReauthenticationRequired into a redirect): process_exception runs bottom-up, so they answer first.
    "portal.error_pages.DebugErrorPagesMiddleware",
    "allauth.account.middleware.AccountMiddleware",  # named as is: allauth refuses to start without it
    "accounts.middleware.SessionActivityMiddleware",  # allauth.usersessions' last seen, one write a minute
    # Unverified address, two-factor required by an organization or by the admin: a page that says what to do.
    "accounts.middleware.AccountGatesMiddleware",
    "audit.middleware.RequestContextMiddleware",
    "portal.api.middleware.ApiErrorMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

FORM_RENDERER = "portal.forms.PortalFormRenderer"  # labels without Django's colon, allauth's forms too

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
                "accounts.context_processors.organizations",
                "accounts.verification.verification_banner",  # the banner of a person not verified yet
            ],
        },
    },
]

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3"), BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
# Any node of a Redis Cluster: the request path's data (cached credentials' generations, API counters, usage
# counts) then lives there (portal.request_redis); the cache and Celery's broker stay on REDIS_URL.
REDIS_CLUSTER_URL = os.environ.get("REDIS_CLUSTER_URL", "").strip()
if REDIS_URL:
    # Short timeouts: a Redis outage must not hang requests (section 7 of the contract).
    _REDIS_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    CACHES = {
        # The request path's Redis (portal.request_redis): API counters and credential generations beside these.
        "default": {"BACKEND": "portal.redis_cache.RedisCache", "LOCATION": REDIS_URL,
                    "KEY_PREFIX": "portal",
                    "OPTIONS": _REDIS_OPTIONS},
        # django-ratelimit's counters: the limits against guessing (portal.ratelimit).
        "ratelimit": {"BACKEND": "portal.redis_cache.RedisCache", "LOCATION": REDIS_URL,
                      "KEY_PREFIX": "portal",
                      "OPTIONS": _REDIS_OPTIONS},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal-ratelimit"},
    }
    if not TESTING:
        logging.getLogger("portal.settings").warning(
            "REDIS_URL is not set: the cache and rate-limit counters live in this process's memory, "
            "so limits are per process. Set REDIS_URL in production."
        )

AUTH_USER_MODEL = "accounts.User"
# What the core (portal.callers) knows organizations as, without importing their app.
PORTAL_ORGANIZATION_MODEL = "accounts.Organization"
AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",  # the admin's own sign-in form, and force_login in tests
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    # OAuth client secrets only (DOT's CLIENT_SECRET_HASHER): long random strings, not passwords.
    "oauthapps.hashers.ClientSecretHasher",
]
if TESTING:
    # Password hashing is deliberately slow; tests sign in hundreds of times.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# A password-reset link works once (the token covers the password hash and the last sign-in) within an hour.
PASSWORD_RESET_TIMEOUT = 3600

# django-allauth: sign-up, sign-in, e-mail verification, password reset, two-factor and sessions (contract
# section 11). Each value is allauth's own setting; what the portal adds is in accounts/adapter.py.
ACCOUNT_ADAPTER = "accounts.adapter.PortalAccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm", "login": "accounts.forms.LoginForm",
                 "add_email": "accounts.forms.ChangeEmailForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# One address per person, changed by verifying the new one (the old one gets the "email changed" notice); the
# second address allowed is the new one while it waits for its link.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_MAX_EMAIL_ADDRESSES = 2
ACCOUNT_REAUTHENTICATION_REQUIRED = True  # changing the address asks for the password first (once per 5 minutes)
# Signed in at once after sign-up; until the link is used, only test keys (accounts.verification).
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_EMAIL_CONFIRMATION_HMAC = False  # a stored confirmation, so that a link works once
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # a link opened by a mail scanner must not verify: the page asks to confirm
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # a reset for an unknown address answers the same and mails nobody
ACCOUNT_EMAIL_NOTIFICATIONS = True  # password changed, e-mail changed, factor added or removed
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # this session stays; accounts.signals ends every other one
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
# Sign-up lands on the overview itself, its verification banner saying a link was sent (contract section 8); a
# sign-up with a taken address is sent to the same URL (accounts.forms.SignupForm.try_save).
ACCOUNT_SIGNUP_REDIRECT_URL = "/dashboard/"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Developer Portal] "
ACCOUNT_RATE_LIMITS = {
    # Sign-in guessing is counted by the portal's own guard (portal.ratelimit, section 7: 10 failures a minute
    # per email, 50 per IP, 429 in the page, 503 when the cache is down). allauth's ``login_failed`` also
    # counts wrong two-factor codes, per person: the same 10 a minute.
    "login_failed": "50/m/ip,10/m/key",
    "login": None,  # every sign-in POST, failed or not: the guard above already counts what matters
    "signup": "20/m/ip",
}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
MFA_ADAPTER = "accounts.adapter.PortalMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Developer Portal"
MFA_RECOVERY_CODE_COUNT = 10
MFA_RECOVERY_CODES_SHOW_ONCE = True
MFA_PASSKEY_LOGIN_ENABLED = True
# WebAuthn needs a secure origin; local runs and tests serve plain http on loopback.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or TESTING
USERSESSIONS_ADAPTER = "accounts.adapter.PortalUserSessionsAdapter"
USERSESSIONS_TRACK_ACTIVITY = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and not TESTING
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
if os.environ.get("EMAIL_FILE_PATH", "").strip():
    # The folder django.core.mail.backends.filebased.EmailBackend writes every mail to (tests read mails there).
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"].strip()
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@localhost")

# Background jobs (portal/celery.py; section 12 of the contract). The broker is CELERY_BROKER_URL, else
# REDIS_URL, else kombu's filesystem transport in a folder of the project: it needs no server, so a laptop
# and the quick start run the same code as production.
CELERY_FOLDER = Path(os.environ.get("PORTAL_CELERY_FOLDER")
                     or BASE_DIR / "var" / ("test-celery" if TESTING else "celery"))
# Tests publish to the filesystem broker unless told otherwise: their Redis database is flushed between tests.
CELERY_BROKER_URL = (os.environ.get("CELERY_BROKER_URL", "").strip() or (REDIS_URL if not TESTING else "")
                     or "filesystem://")
try:  # beat keeps its schedule here whatever the broker; a read-only checkout just goes without
    for _folder in ("messages", "control") if CELERY_BROKER_URL.startswith("filesystem:") else ("",):
        (CELERY_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
except OSError:
    pass
if CELERY_BROKER_URL.startswith("filesystem:"):
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, str | int] = {
        # One folder that producers write to and the worker reads from.
        "data_folder_in": str(CELERY_FOLDER / "messages"),
        "data_folder_out": str(CELERY_FOLDER / "messages"),
        "control_folder": str(CELERY_FOLDER / "control"),
    }
else:
    # A broker outage must not hang the request that enqueues: the job's row waits in the database and the
    # sweep (below) sends it once the broker is back.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2, "max_retries": 1}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Late acknowledgement: a job is taken off the queue only once it has run, so a worker killed in the middle
# leaves it for another (every job is idempotent, and its rows say what is still to do).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_FOLDER / "beat-schedule")
# Tests run jobs inline unless a test starts a real worker (tests/jobs.py).
CELERY_TASK_ALWAYS_EAGER = TESTING
# How often the sweeps look for work a lost message or a dead worker left behind (rows still pending).
JOBS_SWEEP_SECONDS = env_int("PORTAL_JOBS_SWEEP_SECONDS", 30)
CELERY_BEAT_SCHEDULE = {
    "webhooks-deliver-due": {"task": "webhooks.tasks.deliver_due", "schedule": JOBS_SWEEP_SECONDS},
    "portal-send-due-mail": {"task": "portal.tasks.send_due_mail", "schedule": JOBS_SWEEP_SECONDS},
    "notifications-expiry-notices": {"task": "notifications.tasks.send_expiry_notices", "schedule": 600},
    "webhooks-prune-attempts": {"task": "webhooks.tasks.prune_attempts", "schedule": 24 * 3600},
    "portal-purge-expired": {"task": "portal.tasks.purge_expired", "schedule": 24 * 3600},
    "usage-rollup": {"task": "usage.tasks.rollup", "schedule": 60},
    "usage-prune": {"task": "usage.tasks.prune", "schedule": 24 * 3600},
    "security-revoke-unused-keys": {"task": "security.tasks.revoke_unused_keys", "schedule": 600},
}
# Section 19: each API call records the scope its endpoint required, in the usage batch; off only for benchmarks.
PORTAL_SCOPE_USAGE = env_bool("PORTAL_SCOPE_USAGE", True)

DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # 1 MiB, section 5 of the contract

# Security headers and cookies. With debug off everything is strict.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # for browsers without CSP level 2; frame-ancestors below is the rule (ASVS V3.4.6)
# Content-Security-Policy on every response (django-csp): scripts and styles only from the portal's own static
# files (no inline script, style or style attribute in any template), no plugins, no <base>, never framed.
# form-action is 'self': the consent page adds its client's redirect URIs, where browsers follow the redirect
# after the form is posted (oauthapps.endpoints.ConsentView). The API docs page adds data: images (ApiDocsView).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_HTTPONLY = True
    # Behind a TLS-terminating proxy that sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The portal's own settings, read through portal.conf.portal_settings. Their defaults are written once, in
# portal.conf.DEFAULTS: a PORTAL_* variable sets its key only when it is set.
PORTAL = {
    "HASH_KEY": PORTAL_HASH_KEY,
    "ENCRYPTION_KEYS": PORTAL_ENCRYPTION_KEYS,
    "BASE_URL": PORTAL_BASE_URL,
    # Staff need a second factor for /admin/ (contract section 9); not by default in debug.
    "ADMIN_REQUIRE_MFA": env_bool("PORTAL_ADMIN_REQUIRE_MFA", not DEBUG),
    # Tests write usage batches themselves (usage.recorder.recorder.flush()), inside their transaction.
    "USAGE_BACKGROUND_FLUSH": not TESTING,
    **env_overrides({
        "KEY_PREFIX": ("PORTAL_KEY_PREFIX", read_str),
        "RATELIMITS_ENABLED": ("PORTAL_RATELIMITS", read_bool),
        "CREDENTIAL_CACHE_SECONDS": ("PORTAL_CREDENTIAL_CACHE_SECONDS", read_int),
        "TRUSTED_PROXY_COUNT": ("PORTAL_TRUSTED_PROXY_COUNT", read_int),
        "API_READ_RATE": ("PORTAL_API_READ_RATE", read_str),
        "API_WRITE_RATE": ("PORTAL_API_WRITE_RATE", read_str),
        "SECRET_SCANNING_KEYS_URL": ("PORTAL_SECRET_SCANNING_KEYS_URL", read_str),
        "WEBHOOKS_ALLOW_PRIVATE": ("PORTAL_WEBHOOKS_ALLOW_PRIVATE", read_bool),
        "WEBHOOK_RETRY_SCHEDULE": ("PORTAL_WEBHOOK_RETRY_SCHEDULE", read_int_list),
        "WEBHOOK_TIMEOUT_SECONDS": ("PORTAL_WEBHOOK_TIMEOUT_SECONDS", read_int),
        "USAGE_ENABLED": ("PORTAL_USAGE", read_bool),
    }),
}
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_CACHE_PREFIX = "rl:"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A key pasted into a path or header is logged as its public id only (portal.scrub, contract sections 4 and 15).
    "filters": {"no_keys": {"()": "portal.scrub.NoKeysFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}",
                          "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["no_keys"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["no_keys"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Filters on the loggers themselves: the record is scrubbed before any handler, Django's own included.
        "django.request": {"filters": ["no_keys"]},
        "django.security": {"filters": ["no_keys"]},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False, "filters": ["no_keys"]},
    },
}

OAUTH2_PROVIDER_APPLICATION_MODEL = "oauthapps.OAuthClient"
# Named explicitly so that migrations of the portal's own models can point at DOT's token models.
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apikeys.authentication.ApiKeyAuthentication",
        "oauthapps.authentication.OAuthTokenAuthentication",
        "accounts.authentication.PortalSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.permissions.HasRequiredScopes"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # The only parser of the API (no form or multipart parser is reachable): strict UTF-8 JSON, 32 levels deep.
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.PortalJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "portal.api.negotiation.PortalContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.NewestFirstPagination",
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.PortalAutoSchema",
}

# The API reference: GET /api/schema (OpenAPI 3) and GET /api/docs (Swagger UI, every asset served from /static/).
SPECTACULAR_SETTINGS = {
    "TITLE": "Developer Portal API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "Manage applications, API keys, OAuth clients, members and the audit log of an organization.\n\n"
        "**Authentication.** Send an API key as `X-API-Key: <key>` or `Authorization: Bearer <key>`, or an "
        "OAuth 2.0 access token as `Authorization: Bearer <token>` (authorization code with PKCE at "
        f"`{PORTAL_BASE_URL}/oauth/authorize/`, or client credentials at `{PORTAL_BASE_URL}/oauth/token/` "
        "or `POST /api/v1/auth`). Signed in to the dashboard, the session works too (with CSRF protection). "
        "Each operation names the scopes it needs; a credential without them gets 403 `INSUFFICIENT_SCOPE`.\n\n"
        "**Errors** always have the body `{\"error\": \"...\", \"code\": \"...\"}`, with `details` (field to "
        "messages) for 400 and `requiredScopes` for 403 `INSUFFICIENT_SCOPE`. A method a path does not "
        "offer gets 405 `METHOD_NOT_ALLOWED`.\n\n"
        "**Rate limits.** Every response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and "
        "`X-RateLimit-Reset`; a 429 also carries `Retry-After`."
    ),
    "SERVERS": [{"url": PORTAL_BASE_URL}],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],  # public, and a stray credential header must not turn it into a 401
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "RENDERER_WHITELIST": ["rest_framework.renderers.JSONRenderer"],
    "ENUM_NAME_OVERRIDES": {
        "ErrorCodeEnum": "portal.api.errors.ERROR_CODES",
        "ApiKeyStatusEnum": ["active", "rotating", "expired", "revoked"],
        "GrantTypeEnum": "oauthapps.server.GRANT_TYPES",
    },
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema.add_header_components",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to validator.swagger.io: nothing of the page leaves the portal.
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "persistAuthorization": False, "deepLinking": True},
    "SWAGGER_UI_OAUTH2_CONFIG": {"usePkceWithAuthorizationCodeGrant": True},
}

# django-oauth-toolkit, configured for RFC 9700 (OAuth 2.0 Security BCP) and section 6 of the contract.
OAUTH2_PROVIDER = {
    # Every RFC 9700 gate on: no implicit or password grant, PKCE S256 only, tokens only in the
    # Authorization header, `iss` in authorization responses, tokens stored as hashes, and the
    # insecure configurations below become errors rather than warnings.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "PKCE_REQUIRED": True,
    # https only by default; plain-http loopback redirects (RFC 8252) are a per-client exception that
    # the OAuth client model grants through ``get_allowed_schemes``, never a global one.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "ALLOW_URI_WILDCARDS": False,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Hashed token storage cannot hand back a previous refresh token, so no grace period.
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    # The portal's scope registry (portal.scopes) through DOT's scopes backend; a client's allowed
    # scopes are the ceiling of its tokens.
    "SCOPES_BACKEND_CLASS": "oauthapps.scopes.PortalScopes",
    "OAUTH2_SERVER_CLASS": "oauthapps.server.PortalServer",
    "OAUTH2_VALIDATOR_CLASS": "oauthapps.validators.PortalOAuth2Validator",
    "CLIENT_SECRET_HASHER": "portal_client_secret_hmac",
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token",
                                     "urn:ietf:params:oauth:grant-type:device_code"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    # OpenID Connect (section 17): the code flow only; ID tokens are RS256 with the signing keys kept in the
    # database (oauthapps.signing_keys), never a key in settings, so `rotate_signing_key` needs no restart.
    "OIDC_ENABLED": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    # Device authorization grant (RFC 8628): seconds a device waits between polls (oauthapps.device_authorization).
    "DEVICE_FLOW_INTERVAL": 5,
    "REQUEST_APPROVAL_PROMPT": "force",
}
