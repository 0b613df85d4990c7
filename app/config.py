"""Configuration classes; every secret and service address comes from the environment."""
import os
from datetime import timedelta

BASE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
# signs sessions and remember cookies: anyone who knows it can sign in as anyone, so production refuses it
DEV_SECRET_KEY = 'dev-only-secret-change-me'


def _db_url(default):
    url = os.environ.get('DATABASE_URL', default)
    if url.startswith('postgres://'):
        url = 'postgresql+psycopg://' + url[len('postgres://'):]
    elif url.startswith('postgresql://'):
        url = 'postgresql+psycopg://' + url[len('postgresql://'):]
    return url


class Config:
    SECRET_KEY = os.environ.get('SECRET_KEY') or DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = _db_url('sqlite:///' + os.path.join(BASE_DIR, 'instance', 'timebank.sqlite'))
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
    SQLALCHEMY_DATABASE_URI = _db_url('sqlite://')
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = 'memory://'
    INLINE_TIMER_SWEEP_SECONDS = 0  # tests move clocks and fire timers themselves
    # fast hashing in tests only; production keeps argon2 defaults
    PASSWORD_HASH_FAST = True


class Production(Config):
    IS_PRODUCTION = True
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


def check_secrets(config) -> None:
    """Refuse to start production with the public development key (or none): with it anyone could sign a session
    or a remember cookie for any user, the administrator included."""
    key = config.get('SECRET_KEY')
    if config.get('IS_PRODUCTION') and (not key or key == DEV_SECRET_KEY):
        raise RuntimeError('SECRET_KEY is not set: production (APP_CONFIG=production) refuses to start without its own '
                           'secret key. Set the environment variable SECRET_KEY to a long random value, e.g. '
                           '`python -c "import secrets; print(secrets.token_urlsafe(48))"`.')


CONFIGS = {'development': Development, 'testing': Testing, 'production': Production}
