"""The Kling provider (`shared/providers/kling-api.md`): its client, limits, requests, library
sync and provider class, and the sync state it keeps (a Django app, label `kling`)."""
