from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from strawberry.django.views import GraphQLView as StrawberryGraphQLView


class GraphQLView(StrawberryGraphQLView):
    """Strawberry's sync view, with the CSRF cookie set when GraphiQL is served.

    GraphiQL sends the `csrftoken` cookie back as `X-CSRFToken`, but nothing sets that cookie
    for a browser that has never visited a Django form, so its first `login` would be refused.
    """

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        get_token(request)
        return super().render_graphql_ide(request)
