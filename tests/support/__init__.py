"""Helpers the test modules share: media builders, GraphQL clients, fake servers."""
