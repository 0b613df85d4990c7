"""Configuration classes; every secret and service address comes from the environment."""
import os
from datetime import timedelta

BASE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
# signs sessions and remember cookies: anyone who knows it can sign in as anyone, so production refuses it
DEV_SECRET_KEY = 'dev-only-secret-change-me'


def _db_url(default, variable='DATABASE_URL'):
    url = os.environ.get(variable) or default
    if url.startswith('postgres://'):
        url = 'postgresql+psycopg://' + url[len('postgres://'):]
    elif url.startswith('postgresql://'):
        url = 'postgresql+psycopg://' + url[len('postgresql://'):]
    return url


# the embedded default: a file inside the code checkout, fine for `make run`, never for production data
DEFAULT_DB_URL = 'sqlite:///' + os.path.join(BASE_DIR, 'instance', 'timebank.sqlite')
MIN_SECRET_KEY = 32


class ConfigurationError(RuntimeError):
    """A setting production cannot run with; wsgi.py turns it into a one-line message and exit status 1."""


class Config:
    SECRET_KEY = os.environ.get('SECRET_KEY') or DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = _db_url(DEFAULT_DB_URL)
    # behind an HTTPS reverse proxy (nginx): how many proxies set X-Forwarded-For / -Proto, so that the login
    # throttle counts each user's own address, not the proxy's (0: the app is reached directly)
    TRUSTED_PROXIES = int(os.environ.get('TRUSTED_PROXIES', '0'))
    # each process re-reads the organisation tree this often, so units made by `flask create-unit` reach it
    ORG_CACHE_SECONDS = int(os.environ.get('ORG_CACHE_SECONDS', '60'))
    # a finished Excel export (personal data) is kept this many days, then its file is deleted (0: kept for good)
    EXPORT_KEEP_DAYS = int(os.environ.get('EXPORT_KEEP_DAYS', '7'))
    SQLALCHEMY_ENGINE_OPTIONS = {'pool_pre_ping': True}
    REDIS_URL = os.environ.get('REDIS_URL') or None
    TIMER_SWEEP_SECONDS = int(os.environ.get('TIMER_SWEEP_SECONDS', '60'))  # `flask worker` fires due timers
    # without REDIS_URL no worker runs: the web process fires due timers after a request, at most this often (0: off)
    INLINE_TIMER_SWEEP_SECONDS = int(os.environ.get('INLINE_TIMER_SWEEP_SECONDS', '60'))
    BABEL_DEFAULT_LOCALE = 'zh'
    BABEL_DEFAULT_TIMEZONE = 'Asia/Shanghai'
    BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, 'app', 'translations')
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_SAMESITE = 'Lax'
    SESSION_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=10)
    REMEMBER_COOKIE_DURATION = timedelta(days=7)
    REMEMBER_COOKIE_SAMESITE = 'Lax'
    # 9 proof files of 10 MB each plus the form itself
    MAX_CONTENT_LENGTH = 100 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
    RATELIMIT_STORAGE_URI = os.environ.get('RATELIMIT_STORAGE_URI') or (
        os.environ.get('REDIS_URL') or 'memory://')
    RATELIMIT_LOGIN = '10 per minute'
    RATELIMIT_ENABLED = True
    API_TOKEN_HOURS = 12
    DEMO_PASSWORD = os.environ.get('DEMO_PASSWORD', 'demo1234')
    FORMS_DIR = os.path.join(BASE_DIR, 'forms')
    BPMN_DIR = os.path.join(BASE_DIR, 'bpmn')
    PAGE_SIZE = 20
    IS_PRODUCTION = False


class Development(Config):
    DEBUG = False


class Testing(Config):
    TESTING = True
    # never DATABASE_URL: the tests drop every table of their database (also in tests/conftest.py); a worker process
    # the tests start finds their database here
    SQLALCHEMY_DATABASE_URI = _db_url('sqlite://', 'TEST_DATABASE_URL')
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = 'memory://'
    INLINE_TIMER_SWEEP_SECONDS = 0  # tests move clocks and fire timers themselves
    # fast hashing in tests only; production keeps argon2 defaults
    PASSWORD_HASH_FAST = True


class Production(Config):
    IS_PRODUCTION = True
    # cookies only over HTTPS; COOKIE_SECURE=0 for an intranet served over plain HTTP (sign-in fails there otherwise)
    SESSION_COOKIE_SECURE = REMEMBER_COOKIE_SECURE = os.environ.get('COOKIE_SECURE', '1') != '0'


def check_secrets(config) -> None:
    """Refuse to start production with the public development key, none or a short one (anyone who knows or guesses
    it can sign a session for any user, the administrator included), or with its data in the code checkout."""
    if not config.get('IS_PRODUCTION'):
        return
    key = config.get('SECRET_KEY')
    if not key or key == DEV_SECRET_KEY:
        raise ConfigurationError(
            'SECRET_KEY is not set: production (APP_CONFIG=production) refuses to start without its own secret key. '
            'Set the environment variable SECRET_KEY to a long random value, e.g. '
            '`python -c "import secrets; print(secrets.token_urlsafe(48))"`.')
    if len(key) < MIN_SECRET_KEY:
        raise ConfigurationError(f'SECRET_KEY is too short ({len(key)} characters): production needs at least '
                                 f'{MIN_SECRET_KEY}, e.g. `python -c "import secrets; print(secrets.token_urlsafe(48))"`.')
    if config.get('SQLALCHEMY_DATABASE_URI') == _db_url(DEFAULT_DB_URL) and not os.environ.get('DATABASE_URL'):
        raise ConfigurationError('DATABASE_URL is not set: production refuses to keep its data in the code checkout '
                                 '(instance/timebank.sqlite). Set DATABASE_URL=postgresql://user@host:5432/dbname.')


CONFIGS = {'development': Development, 'testing': Testing, 'production': Production}


def config_class(name: str):
    """The settings named by APP_CONFIG (development, production; testing for the test suite)."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigurationError(f'APP_CONFIG={name!r} is unknown: use one of {", ".join(CONFIGS)}.') from None
