import os

from django.core.wsgi import get_wsgi_application

from supportai.startup import refusing_bad_configuration

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportai.settings")
with refusing_bad_configuration():
    application = get_wsgi_application()
