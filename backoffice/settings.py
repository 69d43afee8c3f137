"""Settings for the MCP Gateway back office, read from the environment (django-environ).

Without ``DATABASE_URL`` an embedded PostgreSQL is started in ``.data/postgres`` so that a machine
with only Python can run the project; with it, that server is used. ``BACKOFFICE_PRODUCTION=1``
switches on the hardening that ``manage.py check --deploy`` asks for.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from backoffice.log_format import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

PRODUCTION = env.bool("BACKOFFICE_PRODUCTION", default=False)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
else:
    # Development and tests only; production refuses to start without SECRET_KEY.
    SECRET_KEY = env.str(
        "SECRET_KEY", default="django-insecure-dev-only-3f9c1e0b7a2d4c58b6e1f0a9d8c7b6a5"
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "backoffice.apps.BackofficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "django_tables2",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "backoffice",
    "tenants",
    "security",
    "security.moderation",
    "security.api_keys",
    "security.lifecycle",
    "registry",
    "audit",
    "monitoring",
    "approvals",
]

MIDDLEWARE = [
    # /healthz and /readyz, answered before the HTTPS redirect, the host check and sessions.
    "backoffice.health.HealthProbeMiddleware",
    # One log line per request with the audit trail's request id, the staff member and the status.
    "backoffice.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside sessions and sign-in, which read the database: a 503 page when it is down.
    "backoffice.middleware.DatabaseUnavailableMiddleware",
    # A POST to a read-only page: the 405 page instead of Django's empty answer.
    "backoffice.middleware.MethodNotAllowedPageMiddleware",
    # The back office's 404 page with DEBUG on too (outside CommonMiddleware's slash redirect).
    "backoffice.middleware.ErrorPagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's AuthenticationMiddleware, reading the session's second-factor device and licence
    # in the user's own query (security/session_reads.py).
    "security.middleware.StaffAuthenticationMiddleware",
    # Which second-factor device verified this session, if any (request.user.is_verified()):
    # django-otp's OTPMiddleware, using the device read with the user.
    "security.second_factor.middleware.SessionDeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Rebuilds request.actor from the gateway on every request (after auth and messages).
    "security.middleware.StaffMiddleware",
    # Ends back-office sessions that were signed out elsewhere, idle too long or too old.
    "security.middleware.StaffSessionMiddleware",
    # Staff without a verified second factor reach only enrolment, verification and sign-out.
    "security.second_factor.middleware.SecondFactorMiddleware",
    # The staff member's own time zone for showing and reading times (backoffice/preferences.py).
    "backoffice.preferences.StaffTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns lockouts raised by authentication into responses.
    "axes.middleware.AxesMiddleware",
    "backoffice.middleware.QueryTimeoutMiddleware",
    # After a change, the person's pages read the primary until the replica has it too.
    "backoffice.middleware.PrimaryAfterWriteMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
CSRF_FAILURE_VIEW = "backoffice.errors.csrf_failure"
# With DEBUG on, errors still show the back office's pages (the demo runs with DEBUG);
# TECHNICAL_ERROR_PAGES=1 gives a developer Django's technical 404/500 pages instead.
DEFAULT_EXCEPTION_REPORTER = "backoffice.errors.ErrorPageReporter"
TECHNICAL_ERROR_PAGES = DEBUG and env.bool("TECHNICAL_ERROR_PAGES", default=False)
WSGI_APPLICATION = "backoffice.wsgi.application"

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

# --- Database -------------------------------------------------------------------------------
# Django's own tables live in this schema; the Drizzle contract owns `public`.
BACKOFFICE_DB_SCHEMA = "backoffice"
DRIZZLE_MIGRATIONS_DIR = BASE_DIR / "drizzle"

if env.str("DATABASE_URL", default=""):
    _database = env.db_url("DATABASE_URL")
else:
    from backoffice.embedded_postgres import database_url

    _database = env.db_url_config(database_url(BASE_DIR / ".data" / "postgres"))

_database["ENGINE"] = "backoffice.database"
# Keep connections (opening one costs more than a page's query) and check them before reuse,
# so a database restart costs no failed request.
_database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
_database["CONN_HEALTH_CHECKS"] = True
_database.setdefault("OPTIONS", {})
# A runaway query is cancelled instead of holding a worker; pages turn this into a message.
_database["OPTIONS"]["options"] = (
    f"-c statement_timeout={env.int('STATEMENT_TIMEOUT_MS', default=15000)}"
)
_database["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_backoffice")}
DATABASES = {"default": _database}

# Where analytics results are kept for every server process (monitoring.result_cache): Redis
# when one is named, otherwise a table in the back office's schema.
ANALYTICS_CACHE_URL = env.str("REDIS_URL", default="") or env.str("CACHE_URL", default="")
ANALYTICS_CACHE_PREFIX = env.str("ANALYTICS_CACHE_PREFIX", default="backoffice:analytics:")

# An optional streaming replica of the same database for the heavy reads (explorers, exports,
# analytics, monitoring): see backoffice/reads.py. Without it there is no second alias at all.
if env.str("DATABASE_REPLICA_URL", default=""):
    _replica = env.db_url("DATABASE_REPLICA_URL")
    _replica["ENGINE"] = _database["ENGINE"]
    _replica["CONN_MAX_AGE"] = _database["CONN_MAX_AGE"]
    _replica["CONN_HEALTH_CHECKS"] = True
    _replica.setdefault("OPTIONS", {})
    _replica["OPTIONS"]["options"] = _database["OPTIONS"]["options"]
    # A replica that does not answer is passed over for the primary, not waited for.
    _replica["OPTIONS"].setdefault("connect_timeout", env.int("REPLICA_CONNECT_TIMEOUT", default=2))
    # Tests read the test database through it instead of creating one on a read-only server.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
# Every ORM query goes to the primary; only selectors that ask heavy_reads() use the replica.
DATABASE_ROUTERS = ["backoffice.reads.PrimaryRouter"]
# The replica is passed over while it is further behind than this (seconds), measured on it at
# most every REPLICA_CHECK_SECONDS per process.
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=10.0)
REPLICA_CHECK_SECONDS = env.float("REPLICA_CHECK_SECONDS", default=5.0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication --------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "security.authentication.BetterAuthBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "admin:login"
# Where sign-in goes when `?next=` is missing or unsafe. The admin's sign-in sends each person on
# to their role's own page instead (security.landing); this is for any other login view.
LOGIN_REDIRECT_URL = "monitoring:home"

# Behind a reverse proxy: the request header it writes the client's address into (for example
# X-Forwarded-For), and how many proxies in a row append to it. Unset: REMOTE_ADDR only, and the
# header is ignored whatever a client sends (security.client_address).
_trusted_proxy_header = env.str("TRUSTED_PROXY_HEADER", default="").strip()
TRUSTED_PROXY_HEADER = (
    "HTTP_" + _trusted_proxy_header.upper().replace("-", "_").removeprefix("HTTP_")
    if _trusted_proxy_header
    else ""
)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15.0) / 60  # hours
# Lock the pair (person, address): a stranger elsewhere cannot lock a staff member out of
# everywhere; the per-address limit below stops one address trying many people.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Count failures per person, not per spelling: the email or username typed, in any case and with
# any surrounding spaces, is counted against the gateway user sign-in would find.
AXES_USERNAME_CALLABLE = "security.authentication.throttling_username"
AXES_CLIENT_IP_CALLABLE = "security.client_address.client_ip"
# The 429 page in the back office's look, and the lockout's audit row.
AXES_LOCKOUT_CALLABLE = "security.sign_in_limits.lockout_response"
# Sign-in attempts (POSTs) one address may make per window, whatever names it types.
SIGN_IN_RATE_LIMIT = env.int("SIGN_IN_RATE_LIMIT", default=20)
SIGN_IN_RATE_WINDOW_SECONDS = env.int("SIGN_IN_RATE_WINDOW_SECONDS", default=60)
# Lockouts are cleared with `manage.py axes_reset`; the admin shows gateway data only.
AXES_ENABLE_ADMIN = False

# --- Second factor (security/second_factor) ---------------------------------------------------
# Every staff member enrols a TOTP app and confirms a code after their password. Turning this
# off is for a local demo only: production settings refuse it.
SECOND_FACTOR_REQUIRED = env.bool("SECOND_FACTOR_REQUIRED", default=True)
if PRODUCTION and not SECOND_FACTOR_REQUIRED:
    raise ImproperlyConfigured(
        "SECOND_FACTOR_REQUIRED=0 is for the demo only and is refused under BACKOFFICE_PRODUCTION."
    )
# Dangerous operations ask for a code again when the last one is older than this.
STEP_UP_MAX_AGE_SECONDS = env.int("STEP_UP_MAX_AGE_SECONDS", default=300)
# Wrong codes in a row (TOTP or recovery) before codes are refused for the cool-off.
SECOND_FACTOR_FAILURE_LIMIT = env.int("SECOND_FACTOR_FAILURE_LIMIT", default=5)
SECOND_FACTOR_COOLOFF_MINUTES = env.int("SECOND_FACTOR_COOLOFF_MINUTES", default=15)
OTP_TOTP_ISSUER = "MCP Gateway back office"
# The back office counts wrong codes itself (a fixed limit, then a cool-off, audited); django-otp's
# own doubling delay would refuse a right code typed a second after a typo.
OTP_TOTP_THROTTLE_FACTOR = 0
# No drift learning: a code is accepted within one 30-second step either side, and never twice.
OTP_TOTP_SYNC = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Four-eyes (approvals) -------------------------------------------------------------------
# How long a request for a second staff member's approval stays open, and from how many users a
# bulk moderation action needs one (approvals/policy.py).
FOUR_EYES_REQUEST_HOURS = env.int("FOUR_EYES_REQUEST_HOURS", default=24)
FOUR_EYES_BULK_THRESHOLD = env.int("FOUR_EYES_BULK_THRESHOLD", default=25)

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# A datetime written without a format says its zone (backoffice/formats/en/formats.py).
FORMAT_MODULE_PATH = ["backoffice.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files (served from the project: this product runs on closed networks) ------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Security headers ------------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Back-office sessions end after this long without a request, and this long after sign-in
# whatever happens (security.staff_sessions); the cookie lives no longer than the latter.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_MAX_AGE_HOURS = env.float("SESSION_MAX_AGE_HOURS", default=8.0)
SESSION_COOKIE_AGE = int(SESSION_MAX_AGE_HOURS * 3600)

# Opt in only behind a proxy that terminates TLS and overwrites this header on every request
# (e.g. SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto): Django then believes it, so a client that
# reaches the app directly could claim HTTPS with it.
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Static files from the project itself (collectstatic), without a CDN or separate web server.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# One console handler that redacts secrets; LOG_FORMAT=json writes JSON lines (one object per
# line, with the request line's request_id, staff, method, path, status and duration_ms).
LOGGING = logging_config(
    log_format=env.str("LOG_FORMAT", default="text"), level=env.str("LOG_LEVEL", default="INFO")
)
