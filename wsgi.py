import sys

from app import create_app
from app.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as exc:  # a setting production cannot run with: say which, without a traceback
    sys.exit(f'configuration error: {exc}')
