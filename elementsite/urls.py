from django.conf import settings
from django.contrib import admin
from django.urls import path

from elementsite.schema import schema
from elementsite.views import GraphQLView

admin.site.site_header = "Element Library administration"
admin.site.site_title = "Element Library admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "graphql",
        GraphQLView.as_view(schema=schema, graphql_ide="graphiql" if settings.GRAPHIQL else None),
        name="graphql",
    ),
]
