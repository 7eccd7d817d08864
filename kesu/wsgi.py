import os

from django.core.wsgi import get_wsgi_application

from kesu.cli import UMASK

# Under another WSGI server too, what Kesu writes into its data folder is its own user's only.
os.umask(UMASK)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")
application = get_wsgi_application()
