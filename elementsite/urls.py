from django.conf import settings
from django.contrib import admin
from django.urls import path, re_path

from elements.views import media_file
from elementsite.schema import schema
from elementsite.views import GraphQLView
from elementsite.web import studio_asset, studio_index
from generation.providers.kling.views import kling_callback, kling_media

# JSON for the API when DEBUG is off (a body Django refused, an error outside GraphQL).
handler400 = "elementsite.views.bad_request"
handler500 = "elementsite.views.server_error"

admin.site.site_header = "Element Library administration"
admin.site.site_title = "Element Library admin"
# "View site" opens the web studio, which the service serves at its root.
admin.site.site_url = "/"
# The app list beside every page took 340 px of a 1400 px window, and the list pages with
# filters had 750 px left for their tables (tests/test_admin_width.py); the home page and the
# breadcrumbs lead everywhere it did.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "graphql",
        GraphQLView.as_view(
            schema=schema,
            graphql_ide="graphiql" if settings.GRAPHIQL else None,
            # Uploads of reference images and voice samples. The view stays CSRF-protected:
            # a multipart POST skips the browser's CORS preflight, so only bearer-token
            # requests are exempt (accounts.middleware).
            multipart_uploads_enabled=True,
        ),
        name="graphql",
    ),
    path("media-files/<str:token>", media_file, name="media-file"),
    path("providers/kling/callback/<str:token>", kling_callback, name="kling-callback"),
    path("providers/kling/media/<str:token>/<str:filename>", kling_media, name="kling-media"),
    # The web studio (web/dist): its hashed build files, then every other path is a
    # client-side route answered with index.html. The prefixes above are left to Django so
    # `/admin` still gets its trailing-slash redirect and an unknown API path stays a 404.
    path("assets/<path:name>", studio_asset, name="studio-asset"),
    re_path(
        r"^(?!admin|graphql|media-files/|providers/|static/|media/|assets/)(?P<path>.*)$",
        studio_index,
        name="studio",
    ),
]
