"""Webhooks for client apps: endpoints, the outbox of events, signed delivery with retries."""
