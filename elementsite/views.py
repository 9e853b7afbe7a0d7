from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from strawberry.django.views import GraphQLView as StrawberryGraphQLView

from elementsite.web import graphiql_page


class GraphQLView(StrawberryGraphQLView):
    """Strawberry's sync view, serving our own build of GraphiQL to browsers.

    Strawberry's template loads GraphiQL from a public CDN, so offline it never loads; ours is
    built from the `graphiql` npm package into web/dist with the web studio. The page sets the
    CSRF cookie: GraphiQL sends `csrftoken` back as `X-CSRFToken`, and nothing else sets that
    cookie for a browser that has never visited a Django form, so its first `login` would be
    refused.
    """

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        return graphiql_page(request)
