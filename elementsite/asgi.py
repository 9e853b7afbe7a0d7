# The GraphQL view is the synchronous one: under ASGI Django runs it in a thread, so the ORM
# calls in resolvers stay legal (see PITFALLS.md on SynchronousOnlyOperation).
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elementsite.settings")

application = get_asgi_application()
